import {
  API_URL,
  LOGIN_MAX_FAILURES,
  PASSWORD,
  apiUser,
  expect,
  expectAccessible,
  logIn,
  newEmail,
  screenshot,
  signUp,
  test,
} from "./fixtures";

test("sign up, a reload keeps the session, log out, and log in again", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Log in to aido" })).toBeVisible();
  await expect(page.getByLabel("Email")).toBeFocused();
  await expectAccessible(page);
  await page.getByLabel("Email").fill("ada@example.com");
  await screenshot(page, "login");

  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/signup$/);
  await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
  const email = "lin@example.com"; // fixed, so the screenshots come out the same each run
  await signUp(page, email);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText(email)).toBeVisible();
  await expect(page.getByTestId("empty")).toContainText("Nothing to do yet.");
  await expect(page.getByLabel("New task")).toBeFocused();
  await expectAccessible(page);
  await screenshot(page, "empty");

  await page.reload();
  await expect(page.getByRole("heading", { name: "Your tasks" })).toBeVisible();
  await expect(page.getByText(email)).toBeVisible();

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect(await page.evaluate(() => localStorage.getItem("aido.session"))).toBeNull();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Log in to aido" })).toBeVisible();

  await logIn(page, email);
  await expect(page.getByRole("heading", { name: "Your tasks" })).toBeVisible();
});

test("sign-up with a taken email says so (409) and offers to log in with it", async ({ page, request }) => {
  const email = newEmail("taken");
  await apiUser(request, email);

  await page.goto("/signup");
  await page.getByLabel("Email").fill(email.toUpperCase()); // addresses compare without case
  await page.getByLabel("Password").fill("another password entirely");
  await page.getByRole("button", { name: "Sign up" }).click();

  const field = page.getByLabel("Email");
  await expect(page.getByText("An account with this email already exists.")).toBeVisible();
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(field).toHaveAccessibleDescription("An account with this email already exists.");
  await expect(field).toBeFocused();

  await page.getByRole("button", { name: "Log in with this email instead" }).click();
  await expect(page.getByRole("heading", { name: "Log in to aido" })).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(email.toUpperCase());
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Your tasks" })).toBeVisible();
});

test("a password the server refuses (422) shows its message at the field", async ({ page }) => {
  await page.goto("/signup");
  await page.getByLabel("Email").fill(newEmail("short"));
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Sign up" }).click();

  const field = page.getByLabel("Password");
  // The backend's own words (pydantic's min_length message), not a copy in the UI.
  await expect(page.locator("#password-error")).toHaveText("String should have at least 8 characters.");
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(field).toHaveAccessibleDescription(/At least 8 characters\. String should have at least 8 characters\./);
  await expect(field).toBeFocused();
  await expectAccessible(page);
});

test("a wrong password is refused, and the real log-in limit (429) says when to try again", async ({
  page,
  request,
}) => {
  const email = "forgetful@example.com";
  await apiUser(request, email);
  await page.goto("/login");
  for (let i = 0; i < LOGIN_MAX_FAILURES; i++) {
    await logIn(page, email, `wrong password ${i}`);
    await expect(page.getByRole("alert")).toHaveText("Incorrect email or password.");
  }

  // Even the right password must wait now: the limit counts the email's failures.
  await logIn(page, email, PASSWORD);
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("Too many failed log-ins for now.");
  await expect(alert).toContainText(/Try again in \d+ seconds?\./);
  const submit = page.getByRole("button", { name: /^Wait \d+ seconds?$/ });
  await expect(submit).toBeDisabled();
  const first = Number((await alert.innerText()).match(/in (\d+) second/)?.[1]);
  expect(first).toBeGreaterThan(1);
  await expect
    .poll(async () => Number((await alert.innerText()).match(/in (\d+) second/)?.[1]), { timeout: 5_000 })
    .toBeLessThan(first);
  await screenshot(page, "too-many-log-ins");
});

test("a session that ended elsewhere (401) sends the user to log in", async ({ page, request }) => {
  await signUp(page, newEmail("ended"));
  await page.getByLabel("New task").fill("Water the plants");
  await page.getByLabel("New task").press("Enter");
  await expect(page.getByTestId("task")).toHaveCount(1);

  // The account is deleted from another device: the token in this page now answers 401.
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("aido.session") ?? "{}").token as string);
  const deleted = await request.delete(`${API_URL}/users/me`, { headers: { Authorization: `Bearer ${token}` } });
  expect(deleted.status()).toBe(204);

  // click, not check(): the answer is 401, so the box never turns checked.
  await page.getByRole("checkbox", { name: /Water the plants/ }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(
    page.getByRole("status").filter({ hasText: "Your session has ended. Please log in again." }),
  ).toBeVisible();
  expect(await page.evaluate(() => localStorage.getItem("aido.session"))).toBeNull();
});

test("a tampered token on reload (401) sends the user to log in", async ({ page }) => {
  await signUp(page, newEmail("tampered"));
  await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem("aido.session") ?? "{}");
    localStorage.setItem("aido.session", JSON.stringify({ ...session, token: `${session.token}x` }));
  });
  await page.reload();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByText("Your session has ended. Please log in again.")).toBeVisible();
});

test("a browser that logged in before is not locked out by failures from elsewhere (its device token)", async ({
  page,
  request,
  browser,
}) => {
  const email = newEmail("known-device");
  await signUp(page, email); // the log-in after sign-up leaves this browser a device token
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);

  // Someone else guesses the password until the account's limit for them is reached.
  let answer = 0;
  for (let i = 0; i <= LOGIN_MAX_FAILURES; i++) {
    const guess = await request.post(`${API_URL}/auth/login`, { data: { email, password: `guess ${i}` } });
    answer = guess.status();
  }
  expect(answer).toBe(429);

  // A browser that never logged in to this account is refused even with the right password...
  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  await strangerPage.goto("/login");
  await logIn(strangerPage, email);
  await expect(strangerPage.getByRole("alert")).toContainText("Too many failed log-ins for now.");
  await stranger.close();

  // ...while this one is counted on its own and logs in.
  await logIn(page, email);
  await expect(page.getByRole("heading", { name: "Your tasks" })).toBeVisible();
});
