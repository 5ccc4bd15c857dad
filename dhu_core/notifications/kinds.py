"""The kinds of e-mail the platform sends, and what a recipient may choose for each."""

from dataclasses import dataclass

IMMEDIATELY = "immediately"
WEEKLY = "weekly"
NEVER = "never"
CHOICES = {IMMEDIATELY: "Immediately", WEEKLY: "In a weekly digest", NEVER: "Never"}


@dataclass(frozen=True)
class Kind:
    """One kind of message: its name (also its templates' name) and who may turn it off."""

    name: str
    label: str
    #: False for messages that answer the recipient's own request (a password reset): always
    #: sent at once, with no unsubscribe link, since the recipient just asked for it.
    optional: bool = True


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("practice-approved", "A practice of your organisation was published"),
        Kind("practice-rejected", "A practice of your organisation was sent back, with the reason"),
        Kind("review-waiting", "A practice or an edit waits for review (coordinators)"),
        Kind("interest-received", "Someone expressed interest in your practice or need"),
        Kind("twinning-status", "A twinning of your organisation changed status"),
        Kind("freshness-reminder", "A practice of your organisation needs confirming as current"),
        Kind("account-needs-role", "A new account needs a role or a decision (administrators)"),
        Kind("invitation", "An invitation to join an organisation"),
        Kind("claim-decided", "A coordinator decided your claim of a practice"),
        Kind("password-reset", "A link to set a new password", optional=False),
        Kind("digest", "The weekly digest of the messages you chose to get weekly", optional=False),
    )
}

#: The kinds a person chooses how to receive, in the order of the preferences page.
CHOOSABLE = [kind for kind in KINDS.values() if kind.optional]


def get(name: str) -> Kind:
    """The kind called `name`; ValueError for an unknown one (a typo in a caller)."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind of message: {name!r}") from None
