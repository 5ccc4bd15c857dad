"""The kinds of e-mail the platform sends, and what a recipient may choose for each."""

from dataclasses import dataclass

from dhu_core.i18n import N_

IMMEDIATELY = "immediately"
WEEKLY = "weekly"
NEVER = "never"
CHOICES = {IMMEDIATELY: N_("Immediately"), WEEKLY: N_("In a weekly digest"), NEVER: N_("Never")}


@dataclass(frozen=True)
class Kind:
    """One kind of message: its name (also its templates' name), the context its templates
    need, and whether a recipient may turn it off."""

    name: str
    #: Marked for translation; shown with `_(kind.label)`.
    label: str
    #: The keys `enqueue`'s context must have (the templates may use more, optional ones).
    needs: tuple[str, ...] = ()
    #: False for messages that answer the recipient's own request (a password reset): always
    #: sent at once, with no unsubscribe link, since the recipient just asked for it.
    optional: bool = True
    #: The roles that get it, when not everybody does (for the preferences page).
    roles: tuple[str, ...] = ()


PRACTICE = ("practice_id", "practice_title")

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        # optional: revision (True for an edit of a published practice)
        Kind("practice-approved", N_("A practice of your organisation was published"), PRACTICE),
        Kind(
            "practice-rejected",
            N_("A practice of your organisation was sent back, with the reason"),
            (*PRACTICE, "reason"),
        ),
        Kind(
            "review-waiting",
            N_("A practice or an edit waits for review (coordinators)"),
            (*PRACTICE, "organisation"),
            roles=("coordinator", "admin"),
        ),
        # optional: sender_organisation
        Kind(
            "interest-received",
            N_("Someone expressed interest in your practice or need"),
            ("sender", "about", "about_title", "text"),
        ),
        Kind(
            "twinning-status",
            N_("A twinning of your organisation changed status"),
            ("practice_title", "need_organisation", "status", "old_status"),
        ),
        # optional: archive_on (the date it is archived without a confirmation)
        Kind(
            "freshness-reminder",
            N_("A practice of your organisation needs confirming as current"),
            (*PRACTICE, "last_confirmed"),
        ),
        # optional: organisation, pending (asks to join it)
        Kind(
            "account-needs-role",
            N_("A new account needs a role or a decision (administrators)"),
            ("username", "display_name", "role"),
            roles=("admin",),
        ),
        # token: of the link /join?invitation=TOKEN; expires: a date as text
        Kind(
            "invitation",
            N_("An invitation to join an organisation"),
            ("inviter", "organisation", "token", "expires"),
        ),
        # closes: the call's closing time as text
        Kind(
            "call-confirmation",
            N_("An application to a twinning call chose a practice of your organisation"),
            ("call_id", "call_title", "adopter", "practice_title", "closes"),
        ),
        Kind(
            "call-assignment",
            N_("An application to a twinning call was assigned to you to evaluate (evaluators)"),
            ("call_title", "application_id", "adopter"),
            roles=("evaluator",),
        ),
        # outcome: its label; optional: scores ([{criterion, score, comment}]), rank,
        # reserve_position, practice_title, grant, total (empty when they do not apply)
        Kind(
            "call-decision",
            N_("The decision on your organisation's application to a twinning call"),
            ("call_id", "call_title", "outcome", "comment"),
        ),
        # optional: reason (of a declined claim)
        Kind(
            "claim-decided",
            N_("A coordinator decided your claim of a practice"),
            (*PRACTICE, "approved", "organisation"),
        ),
        Kind(
            "password-reset",
            N_("A link to set a new password"),
            ("username", "token", "expires"),
            optional=False,
        ),
        Kind(
            "digest",
            N_("The weekly digest of the messages you chose to get weekly"),
            ("count",),
            optional=False,
        ),
    )
}


#: The kinds a person chooses how to receive, in the order of the preferences page.
CHOOSABLE = [kind for kind in KINDS.values() if kind.optional]


def choosable(role: str) -> list[Kind]:
    """The kinds someone with `role` may get and choose how to receive."""
    return [kind for kind in CHOOSABLE if not kind.roles or role in kind.roles]


def get(name: str) -> Kind:
    """The kind called `name`; ValueError for an unknown one (a typo in a caller)."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind of message: {name!r}") from None
