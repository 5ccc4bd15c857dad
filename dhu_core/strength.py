"""How hard a secret is to guess, by zxcvbn's estimator and its lists of common passwords.

zxcvbn's lists of passwords, names and words hold about 11 MB once imported: it is imported when
a password is first judged, and a signing key is judged in a child process (`guesses_log10_apart`)
so that an app process where nobody sets a password never holds them.
"""

import re
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

#: zxcvbn's work grows with the square of the length; a longer secret is judged by its start,
#: which can only make the estimate lower.
LONGEST_JUDGED = 128
# zxcvbn keeps the caller's personal words in a module-level dictionary while it works, so
# two sign-ups judged at once in the app's threads could see each other's words.
_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class Estimate:
    """zxcvbn's verdict: a score from 0 (guessed at once) to 4, and advice in plain words."""

    score: int
    guesses_log10: float
    advice: str


def estimate(secret: str, *, personal: Sequence[str] = ()) -> Estimate:
    """How guessable `secret` is, counting words of the person it belongs to as known."""
    judged = secret[:LONGEST_JUDGED]
    # zxcvbn matches each input whole: give "Nora Owner" and "nora@example.org" word by word too.
    words = {part for text in personal for part in [text, *re.split(r"[\W_]+", text)] if part}
    import zxcvbn  # (see the module's docstring)

    with _ONE_AT_A_TIME:
        result = zxcvbn.zxcvbn(judged, user_inputs=sorted(words), max_length=LONGEST_JUDGED)
    feedback = result["feedback"]
    advice = " ".join([feedback["warning"], *feedback["suggestions"][:1]]).strip()
    return Estimate(result["score"], float(result["guesses_log10"]), advice)


def guesses_log10_apart(secret: str) -> float:
    """`estimate(secret).guesses_log10`, judged in a child process unless zxcvbn is loaded here."""
    if "zxcvbn" in sys.modules:
        return estimate(secret).guesses_log10
    # The secret goes on the child's standard input, never on its command line (which other
    # users of the machine can read).
    judged = subprocess.run(
        [sys.executable, "-m", "dhu_core.strength"],
        input=secret,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(judged.stdout)


if __name__ == "__main__":  # a secret on standard input: its guesses_log10
    print(estimate(sys.stdin.read()).guesses_log10)
