"""Domain errors. Services raise them; views, serializers and tasks turn them into clear messages."""


class DomainError(Exception):
    """A rule refused the action. `message` is translated for the user."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class NotPermitted(DomainError):
    """The actor may not do this."""


class NotFound(DomainError):
    """What the action names does not exist (or is not the actor's to see)."""


class TransitionNotAllowed(DomainError):
    """The consignment's status does not allow this move."""


class DomainInvalid(DomainError):
    """The input breaks one or more rules. `errors` maps a field (`reason`, `commodities.0.cn_code`, or `""`
    for the input as a whole) to its messages: forms put them back on their fields, the API answers a 400
    with them."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in errors.items()))
        self.errors = errors


class PartOneInvalid(DomainInvalid):
    """CHED Part I breaks one or more rules; `errors` are keyed by Part I's field paths."""


class UploadRefused(DomainInvalid):
    """An uploaded file or import was refused. `errors` maps the form field (`file`, `type`) or, for a file of
    rows, `row N.column` to messages; nothing of the upload was stored."""
