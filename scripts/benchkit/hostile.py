"""The hostile-search case (issue 14): one account runs 40 worst-case searches at once while
another account lists its tasks; the second account's latency, quiet and under the attack.

The worst case is not a rare word (the trigram index answers it at once) but a 200-character
pattern whose trigrams are in every one of the attacker's 4,000 tasks and which matches none:
`ILIKE '%aaa…ab%'` over descriptions of `aaa…ab` repeated costs O(text x pattern) per row,
about 1 s of one core for all 4,000 rows without a timeout.
"""

from __future__ import annotations

import tempfile
import threading
import uuid
from pathlib import Path

import psycopg

from aido.core.security import hash_password
from benchkit.cpu import Watched
from benchkit.database import conninfo
from benchkit.loadgen import Request, _run, run_case
from benchkit.progress import say
from benchkit.result import CaseResult
from benchkit.seed import Seed, SeededUser

CASE = "hostile: 40 worst-case searches beside another user's list"
ATTACKER_EMAIL = "bench-attacker@example.com"
ATTACKER_TASKS = 4_000
ATTACK_CONNECTIONS = 40
VICTIM_CONNECTIONS = 2  # one person's client: a page and a refresh in flight at most
WORST_Q = "a" * 199 + "b"
WORST_TITLE = "a" * 198 + "b"
WORST_DESCRIPTION = ("a" * 198 + "b") * 10  # 1,990 chars, every trigram of WORST_Q
VICTIM_PAGE = "/tasks?limit=50"


def seed_attacker(url: str, seed: Seed) -> SeededUser:
    attacker = SeededUser(uuid.uuid4(), ATTACKER_EMAIL)
    say(f"seeding the attacker: {ATTACKER_TASKS:,} worst-case tasks…")
    with psycopg.connect(conninfo(url)) as conn, conn.cursor() as cur:
        cur.execute(
            'INSERT INTO "user" (id, email, hashed_password) VALUES (%s, %s, %s)',
            (attacker.id, attacker.email, hash_password(seed.password)),
        )
        with cur.copy("COPY task (id, owner_id, title, description) FROM STDIN") as cp:
            for _ in range(ATTACKER_TASKS):
                cp.write_row((uuid.uuid4(), attacker.id, WORST_TITLE, WORST_DESCRIPTION))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE task")
    return attacker


def run(
    wrk: str,
    url: str,
    *,
    attacker_token: str,
    victim_token: str,
    seconds: float,
    warmup: float,
    watched: Watched | None = None,
) -> list[CaseResult]:
    victim = [Request("GET", VICTIM_PAGE, victim_token)]
    quiet = run_case(wrk, f"{CASE}: the list alone", url, victim, seconds=seconds,
                     warmup=warmup, concurrency=VICTIM_CONNECTIONS, watched=watched)  # fmt: skip
    say(f"  the list alone: p50 {quiet.p50_ms:.1f} ms, p99 {quiet.p99_ms:.1f} ms; "
        f"now with {ATTACK_CONNECTIONS} worst-case searches beside it…")  # fmt: skip
    attack: dict[str, float] = {}
    with tempfile.NamedTemporaryFile("w", prefix="aido-bench-attack-", suffix=".tsv") as f:
        f.write(Request("GET", f"/tasks?limit=50&q={WORST_Q}", attacker_token).line() + "\n")
        f.flush()
        # The attack covers the list's warm-up and measurement, with a second to spare.
        attacker = threading.Thread(target=lambda: attack.update(_run(
            wrk, url, Path(f.name), seconds=seconds + warmup + 1,
            concurrency=ATTACK_CONNECTIONS)))  # fmt: skip
        attacker.start()
        loaded = run_case(wrk, f"{CASE}: the list under attack", url, victim,
                          seconds=seconds, warmup=warmup, concurrency=VICTIM_CONNECTIONS,
                          watched=watched)  # fmt: skip
        attacker.join()
    ratio = loaded.p99_ms / quiet.p99_ms if quiet.p99_ms else float("inf")
    answered = int(attack.get("requests", 0))
    refused = int(attack.get("non2xx", 0))
    s429, s503 = int(attack.get("s429", 0)), int(attack.get("s503", 0))
    loaded.note = (
        f"p99 {ratio:.1f}x the list alone (target <= 3x, 0 errors); the attacker: "
        f"{answered:,} answers: {answered - refused:,} 200, {s429:,} 429, {s503:,} 503, "
        f"{refused - s429 - s503:,} other; {int(attack.get('timeout', 0))} waited over 10 s"
    )
    return [quiet, loaded]
