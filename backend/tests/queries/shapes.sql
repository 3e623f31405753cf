-- users: create
INSERT INTO "user" (id, email, hashed_password) VALUES (%(user_id)s, %(email)s, %(hashed_password)s) ON CONFLICT DO NOTHING RETURNING id, email, created_at;

-- users: by email
SELECT id, email, created_at FROM "user" WHERE email = %(email)s;

-- users: by id
SELECT id, email, created_at FROM "user" WHERE id = %(user_id)s;

-- users: exists
SELECT id FROM "user" WHERE id = %(user_id)s;

-- users: credentials
SELECT id, hashed_password, token_generation FROM "user" WHERE email = %(email)s;

-- users: password
SELECT hashed_password, token_generation FROM "user" WHERE id = %(user_id)s;

-- users: delete
DELETE FROM "user" WHERE id = %(user_id)s RETURNING id;

-- users: revoke
UPDATE "user" SET token_generation = token_generation + 1, tokens_revoked_at = now(), tokens_revoked_xid = pg_current_xact_id()::text::bigint WHERE id = %(user_id)s RETURNING token_generation;

-- users: change password
UPDATE "user" SET hashed_password = %(new)s, token_generation = token_generation + 1, tokens_revoked_at = now(), tokens_revoked_xid = pg_current_xact_id()::text::bigint WHERE id = %(user_id)s AND hashed_password = %(old)s RETURNING token_generation;

-- users: revocations since
SELECT w.xmin, u.id, u.token_generation FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) AS w LEFT OUTER JOIN "user" AS u ON u.tokens_revoked_xid >= %(since)s;

-- users: revocations within
SELECT w.xmin, u.id, u.token_generation FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) AS w LEFT OUTER JOIN "user" AS u ON u.tokens_revoked_at > now() - interval '1 second' * %(seconds)s;

-- tasks: create
WITH admitted AS (UPDATE task_quota SET window_started_at = CASE WHEN window_started_at <= now() - %(window)s THEN now() ELSE window_started_at END, window_creates = CASE WHEN window_started_at <= now() - %(window)s THEN 1 ELSE window_creates + 1 END WHERE owner_id = %(owner_id)s AND tasks < %(max_tasks)s AND (window_started_at <= now() - %(window)s OR window_creates < %(max_creates)s) RETURNING owner_id) INSERT INTO task (id, owner_id, title, description, completed, idempotency_key, idempotency_hash) SELECT %(task_id)s, owner_id, %(title)s, %(description)s::text, %(completed)s::boolean, %(idempotency_key)s::text, %(idempotency_hash)s::bytea FROM admitted ON CONFLICT DO NOTHING RETURNING id, title, description, completed, created_at, updated_at;

-- tasks: earlier by id
SELECT id, title, description, completed, created_at, updated_at, idempotency_hash FROM task WHERE owner_id = %(owner_id)s AND id = %(task_id)s;

-- tasks: earlier by key
SELECT id, title, description, completed, created_at, updated_at, idempotency_hash FROM task WHERE owner_id = %(owner_id)s AND (id = %(task_id)s OR idempotency_key = %(idempotency_key)s);

-- tasks: new quota
INSERT INTO task_quota (owner_id, tasks, window_creates) VALUES (%(owner_id)s, 0, 0) ON CONFLICT DO NOTHING;

-- tasks: quota
SELECT tasks, window_creates, extract(epoch FROM now() - window_started_at) AS window_age FROM task_quota WHERE owner_id = %(owner_id)s;

-- tasks: get
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE id = %(task_id)s AND owner_id = %(owner_id)s;

-- tasks: update
UPDATE task SET title = CASE WHEN %(set_title)s THEN %(title)s::text ELSE title END, description = CASE WHEN %(set_description)s THEN %(description)s::text ELSE description END, completed = CASE WHEN %(set_completed)s THEN %(completed)s::boolean ELSE completed END, updated_at = CASE WHEN (%(set_title)s AND title IS DISTINCT FROM %(title)s::text) OR (%(set_description)s AND description IS DISTINCT FROM %(description)s::text) OR (%(set_completed)s AND completed IS DISTINCT FROM %(completed)s::boolean) THEN now() ELSE updated_at END WHERE id = %(task_id)s AND owner_id = %(owner_id)s RETURNING id, title, description, completed, created_at, updated_at;

-- tasks: delete
DELETE FROM task WHERE id = %(task_id)s AND owner_id = %(owner_id)s RETURNING id;

-- tasks: list created_at asc completed=None search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=None search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (created_at, id) > (%(after_key)s, %(after_id)s) ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=None search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=None search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (created_at, id) > (%(after_key)s, %(after_id)s) ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=True search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=True search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (created_at, id) > (%(after_key)s, %(after_id)s) ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=True search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=True search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (created_at, id) > (%(after_key)s, %(after_id)s) ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=False search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=False search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (created_at, id) > (%(after_key)s, %(after_id)s) ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=False search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at asc completed=False search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (created_at, id) > (%(after_key)s, %(after_id)s) ORDER BY created_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list created_at desc completed=None search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=None search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (created_at, id) < (%(after_key)s, %(after_id)s) ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=None search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=None search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (created_at, id) < (%(after_key)s, %(after_id)s) ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=True search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=True search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (created_at, id) < (%(after_key)s, %(after_id)s) ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=True search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=True search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (created_at, id) < (%(after_key)s, %(after_id)s) ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=False search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=False search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (created_at, id) < (%(after_key)s, %(after_id)s) ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=False search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list created_at desc completed=False search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (created_at, id) < (%(after_key)s, %(after_id)s) ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=None search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=None search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (updated_at, id) > (%(after_key)s, %(after_id)s) ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=None search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=None search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (updated_at, id) > (%(after_key)s, %(after_id)s) ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=True search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=True search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (updated_at, id) > (%(after_key)s, %(after_id)s) ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=True search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=True search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (updated_at, id) > (%(after_key)s, %(after_id)s) ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=False search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=False search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (updated_at, id) > (%(after_key)s, %(after_id)s) ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=False search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at asc completed=False search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (updated_at, id) > (%(after_key)s, %(after_id)s) ORDER BY updated_at ASC, id ASC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=None search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=None search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (updated_at, id) < (%(after_key)s, %(after_id)s) ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=None search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=None search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (updated_at, id) < (%(after_key)s, %(after_id)s) ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=True search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=True search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (updated_at, id) < (%(after_key)s, %(after_id)s) ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=True search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=True search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (updated_at, id) < (%(after_key)s, %(after_id)s) ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=False search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=False search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (updated_at, id) < (%(after_key)s, %(after_id)s) ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=False search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list updated_at desc completed=False search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (updated_at, id) < (%(after_key)s, %(after_id)s) ORDER BY updated_at DESC, id DESC LIMIT %(limit)s;

-- tasks: list title asc completed=None search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=None search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title, id) > (%(after_key)s, %(after_id)s) ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=None search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=None search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (title, id) > (%(after_key)s, %(after_id)s) ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=True search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=True search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title, id) > (%(after_key)s, %(after_id)s) ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=True search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=True search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (title, id) > (%(after_key)s, %(after_id)s) ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=False search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=False search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title, id) > (%(after_key)s, %(after_id)s) ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=False search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title asc completed=False search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (title, id) > (%(after_key)s, %(after_id)s) ORDER BY title ASC, id ASC LIMIT %(limit)s;

-- tasks: list title desc completed=None search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=None search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title, id) < (%(after_key)s, %(after_id)s) ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=None search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=None search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (title, id) < (%(after_key)s, %(after_id)s) ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=True search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=True search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title, id) < (%(after_key)s, %(after_id)s) ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=True search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=True search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = true AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (title, id) < (%(after_key)s, %(after_id)s) ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=False search=False after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=False search=False after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title, id) < (%(after_key)s, %(after_id)s) ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=False search=True after=False
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- tasks: list title desc completed=False search=True after=True
SELECT id, title, description, completed, created_at, updated_at FROM task WHERE owner_id = %(owner_id)s AND completed = false AND (title ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\') AND (title, id) < (%(after_key)s, %(after_id)s) ORDER BY title DESC, id DESC LIMIT %(limit)s;

-- signing_secret: load or create
INSERT INTO signing_secret (name, secret) VALUES (%(name)s, %(secret)s) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING secret;

-- throttle: insert missing
INSERT INTO throttle (key, attempts, window_started_at, next_attempt_at, expires_at)
SELECT k, 0, clock_timestamp(), 'epoch', clock_timestamp()
FROM unnest(%(keys)s::text[]) AS k ORDER BY k
ON CONFLICT (key) DO NOTHING;

-- throttle: lock
SELECT key, attempts, window_started_at, next_attempt_at, clock_timestamp() AS now
FROM throttle WHERE key = ANY(%(keys)s::text[]) ORDER BY key FOR UPDATE;

-- throttle: peek
SELECT key, attempts, window_started_at, next_attempt_at, clock_timestamp() AS now
FROM throttle WHERE key = ANY(%(keys)s::text[]);

-- throttle: store
UPDATE throttle AS t
SET attempts = v.attempts, window_started_at = v.started, next_attempt_at = v.next_at,
    expires_at = v.expires
FROM unnest(%(keys)s::text[], %(attempts)s::int[], %(started)s::timestamptz[],
            %(next_at)s::timestamptz[], %(expires)s::timestamptz[])
     AS v(key, attempts, started, next_at, expires)
WHERE t.key = v.key;

-- throttle: sweep
DELETE FROM throttle WHERE key IN (
  SELECT key FROM throttle WHERE expires_at < now() - interval '1 minute'
  ORDER BY key LIMIT 1000 FOR UPDATE SKIP LOCKED);

-- throttle: forgive
UPDATE throttle AS t
SET attempts = CASE WHEN t.key = ANY(%(reset)s::text[]) THEN 0
                    ELSE greatest(t.attempts - 1, 0) END,
    next_attempt_at = CASE WHEN t.key = ANY(%(reset)s::text[]) THEN 'epoch'
                           ELSE t.next_attempt_at END
FROM (SELECT key FROM throttle WHERE key = ANY(%(keys)s::text[]) ORDER BY key FOR UPDATE) AS l
WHERE t.key = l.key;

