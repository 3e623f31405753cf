import {
  API_URL,
  apiTask,
  apiUser,
  database,
  expect,
  expectAccessible,
  logIn,
  newEmail,
  screenshot,
  signUp,
  test,
  titles,
} from "./fixtures";

test("add, edit, complete, reopen and delete (with undo), from the keyboard", async ({ page, request }) => {
  await signUp(page, "ada@example.com");
  const input = page.getByLabel("New task");
  const announcer = page.getByTestId("announcer");

  for (const title of ["Water the plants", "Book the dentist", "Renew passport", "Call the plumber about the leak"]) {
    await input.fill(title);
    await input.press("Enter");
    await expect(announcer).toHaveText(`Added “${title}”.`);
    await expect(input).toHaveValue("");
    await expect(input).toBeFocused();
  }
  await page.getByRole("button", { name: "+ Add a description" }).click();
  await expect(page.getByLabel("Description (optional)")).toBeFocused();
  await page.getByLabel("Description (optional)").fill("2 litres, and bread");
  await input.fill("Buy milk");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByTestId("task").first()).toContainText("2 litres, and bread");
  expect(await titles(page)).toEqual([
    "Buy milk",
    "Call the plumber about the leak",
    "Renew passport",
    "Book the dentist",
    "Water the plants",
  ]);

  await page.getByRole("checkbox", { name: /Renew passport/ }).check();
  await expect(page.getByRole("checkbox", { name: /Renew passport/ })).toBeChecked();
  await expect(announcer).toHaveText("Completed “Renew passport”.");
  await expectAccessible(page);
  await screenshot(page, "list");

  // Edit: Escape cancels and focus goes back to the Edit button.
  const edit = page.getByRole("button", { name: "Edit “Buy milk”" });
  await edit.click();
  const title = page.getByLabel("Title");
  await expect(title).toBeFocused();
  await title.fill("Buy something else");
  await title.press("Escape");
  await expect(edit).toBeFocused();
  expect((await titles(page))[0]).toBe("Buy milk");

  // Edit again: Enter saves title and description.
  await edit.press("Enter");
  await expect(title).toBeFocused();
  await title.fill("Buy oat milk");
  await page.getByLabel("Description", { exact: true }).fill("2 litres of oat milk");
  await expectAccessible(page);
  await screenshot(page, "editing");
  await title.press("Enter");
  await expect(announcer).toHaveText("Saved “Buy oat milk”.");
  await expect(page.getByRole("button", { name: "Edit “Buy oat milk”" })).toBeFocused();

  // Complete, and it stays completed after a reload; then reopen.
  const box = page.getByRole("checkbox", { name: /Buy oat milk/ });
  await box.focus();
  await page.keyboard.press("Space");
  await expect(box).toBeChecked();
  await page.reload();
  await expect(page.getByRole("checkbox", { name: /Buy oat milk/ })).toBeChecked();
  await expect(page.getByTestId("task").first()).toContainText("2 litres of oat milk");
  await page.getByRole("checkbox", { name: /Buy oat milk/ }).uncheck();
  await expect(announcer).toHaveText("Reopened “Buy oat milk”.");

  // Delete, then Undo: back where it was, focused.
  await page.getByRole("button", { name: "Delete “Book the dentist”" }).click();
  await expect(page.getByRole("checkbox", { name: /Water the plants/ })).toBeFocused();
  expect(await titles(page)).not.toContain("Book the dentist");
  await page.getByRole("button", { name: "Undo" }).click();
  expect(await titles(page)).toEqual([
    "Buy oat milk",
    "Call the plumber about the leak",
    "Renew passport",
    "Book the dentist",
    "Water the plants",
  ]);
  await expect(page.getByRole("checkbox", { name: /Book the dentist/ })).toBeFocused();

  // Delete for good: dismissing the notice sends it at once.
  const sent = page.waitForResponse((r) => r.request().method() === "DELETE" && r.status() === 204);
  await page.getByRole("button", { name: "Delete “Book the dentist”" }).click();
  await page.getByRole("button", { name: "Dismiss" }).click();
  await sent;
  await page.reload();
  await expect(page.getByTestId("task")).toHaveCount(4);
  expect(await titles(page)).not.toContain("Book the dentist");

  // Delete and leave at once: the delete still reaches the server as the page goes away.
  await page.getByRole("button", { name: "Delete “Water the plants”" }).click();
  await page.reload();
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("aido.session") ?? "{}").token as string);
  await expect
    .poll(async () => {
      const list = await request.get(`${API_URL}/tasks?limit=100`, { headers: { Authorization: `Bearer ${token}` } });
      return ((await list.json()) as { items: { title: string }[] }).items.map((t) => t.title);
    })
    .not.toContain("Water the plants");
});

test("filter by completed, search, sort, and load more over next_cursor", async ({ page, request }) => {
  const email = newEmail("busy");
  const token = await apiUser(request, email);
  for (let i = 1; i <= 25; i++) {
    const n = String(i).padStart(2, "0");
    await apiTask(request, token, {
      title: `Task ${n}`,
      description: i % 7 === 0 ? "get milk on the way" : undefined,
      completed: i % 5 === 0,
    });
  }
  await page.goto("/login");
  await logIn(page, email);

  // Newest first, 20 to a page.
  await expect(page.getByTestId("task")).toHaveCount(20);
  expect((await titles(page))[0]).toBe("Task 25");
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(page.getByTestId("task")).toHaveCount(25);
  await expect(page.getByRole("checkbox", { name: /Task 05/ })).toBeFocused();
  await expect(page.getByTestId("announcer")).toHaveText("Loaded 5 more tasks; that is all.");
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);

  await page.getByRole("radio", { name: "Done" }).check();
  await expect.poll(() => titles(page)).toEqual(["Task 25", "Task 20", "Task 15", "Task 10", "Task 05"]);
  await page.getByRole("radio", { name: "Open" }).check();
  await expect.poll(async () => (await titles(page)).includes("Task 25")).toBe(false);
  // Completing a task in "Open" takes it off this view. click(), not check(): check() then
  // looks for the box to read its new state, and the box may already be gone with its row.
  await page.getByRole("checkbox", { name: /Task 24/ }).click();
  await expect.poll(() => titles(page)).not.toContain("Task 24");
  await page.getByRole("radio", { name: "Done" }).check();
  await expect.poll(() => titles(page)).toContain("Task 24");

  await page.getByRole("radio", { name: "All" }).check();
  await page.getByLabel("Search").fill("MILK");
  await expect.poll(() => titles(page)).toEqual(["Task 21", "Task 14", "Task 07"]);
  await page.getByLabel("Search").fill("nothing like this");
  await expect(page.getByTestId("empty")).toContainText("No tasks match “nothing like this”.");
  await page.getByRole("button", { name: "Show all tasks" }).click();
  await expect(page.getByLabel("Search")).toHaveValue("");
  await expect(page.getByTestId("task")).toHaveCount(20);

  await page.getByLabel("Sort").selectOption({ label: "Title A–Z" });
  await expect.poll(async () => (await titles(page)).slice(0, 3)).toEqual(["Task 01", "Task 02", "Task 03"]);
  await page.getByLabel("Sort").selectOption({ label: "Oldest first" });
  await expect.poll(async () => (await titles(page))[0]).toBe("Task 01");
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(page.getByTestId("task")).toHaveCount(25);
  expect((await titles(page)).at(-1)).toBe("Task 25");
});

test("another user cannot see the tasks", async ({ page, request, browser }) => {
  const owner = newEmail("owner");
  const token = await apiUser(request, owner);
  await apiTask(request, token, { title: "The owner's secret plan" });

  await signUp(page, newEmail("other"));
  await expect(page.getByTestId("empty")).toContainText("Nothing to do yet.");
  await page.getByLabel("Search").fill("secret");
  await expect(page.getByTestId("empty")).toContainText("No tasks match “secret”.");

  const ownerContext = await browser.newContext();
  const ownerPage = await ownerContext.newPage();
  await ownerPage.goto("/login");
  await logIn(ownerPage, owner);
  await expect.poll(() => titles(ownerPage)).toEqual(["The owner's secret plan"]);
  await ownerContext.close();
});

test.describe("while the database is away", () => {
  test.afterEach(async ({ request }) => database(request, "up"));

  test("503 says when the next try is; the list and a create recover by themselves, the create stored once", async ({
    page,
    request,
  }) => {
    await signUp(page, "outage@example.com");
    const keys: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/tasks")) keys.push(r.headers()["idempotency-key"] ?? "none");
    });

    await database(request, "down");
    const input = page.getByLabel("New task");
    await input.fill("Written during the outage");
    await input.press("Enter");
    const notice = page.getByRole("alert").filter({ hasText: "Could not save the new task" });
    await expect(notice).toContainText("the service is unavailable right now.", { timeout: 20_000 });
    await expect(notice.getByTestId("retry-countdown")).toHaveText(/Trying again in \d+ seconds?\./);
    await expect(input).toHaveValue("Written during the outage");
    await screenshot(page, "unavailable");
    await expect.poll(() => keys.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);

    await database(request, "up");
    await expect(page.getByTestId("task")).toHaveCount(1, { timeout: 20_000 });
    await expect(input).toHaveValue("");
    expect(new Set(keys).size, `one Idempotency-Key for every try: ${keys.join(", ")}`).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    await page.reload();
    // Polled: the page loads the list after the reload's load event, and the first list after
    // an outage may take a pooled connection that is still being opened.
    await expect.poll(() => titles(page)).toEqual(["Written during the outage"]);

    // A reload during an outage: the list says when it retries, and comes back by itself.
    await database(request, "down");
    await page.reload();
    const failed = page.getByRole("alert").filter({ hasText: "Could not load your tasks" });
    await expect(failed).toContainText("the service is unavailable right now.", { timeout: 20_000 });
    await expect(failed.getByTestId("retry-countdown")).toHaveText(/Trying again in \d+ seconds?\./);
    await database(request, "up");
    await expect.poll(() => titles(page), { timeout: 20_000 }).toEqual(["Written during the outage"]);
  });
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });

  test("everything fits the screen and works by touch", async ({ page, request }) => {
    const email = "grace@example.com";
    const token = await apiUser(request, email);
    await apiTask(request, token, { title: "Pick up the dry cleaning", completed: true });
    await apiTask(request, token, { title: "Pay the electricity bill", description: "Due Friday" });
    await apiTask(request, token, { title: "Call Mum" });
    await page.goto("/login");
    await logIn(page, email);
    await expect(page.getByTestId("task")).toHaveCount(3);

    await page.getByLabel("New task").fill("Buy a birthday card for Sam");
    await page.getByRole("button", { name: "Add", exact: true }).tap();
    await expect(page.getByTestId("task")).toHaveCount(4);
    await page.getByRole("checkbox", { name: /Call Mum/ }).tap();
    await expect(page.getByRole("checkbox", { name: /Call Mum/ })).toBeChecked();

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, "no sideways scrolling").toBeLessThanOrEqual(0);
    for (const name of ["Edit “Call Mum”", "Delete “Call Mum”", "Log out"]) {
      const box = await page.getByRole("button", { name }).boundingBox();
      expect(
        box && box.height >= 44 && box.x >= 0 && box.x + box.width <= 390,
        `${name} is a full-size target on screen`,
      ).toBe(true);
    }
    await expectAccessible(page);
    await screenshot(page, "phone");
  });
});
