"""A service's refusal shown to the importer as messages, on the page the action redirects to."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.http import Http404

from inspection.errors import DomainError, DomainInvalid, NotFound


class Refusal:
    """What `refusal_shown` caught; false while nothing was refused."""

    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is not None


@contextmanager
def refusal_shown(request, *, intro: str = "", where: Callable[[str], str] | None = None) -> Iterator[Refusal]:
    """Run a service call; when a rule refuses it (a `DomainError`: the service stored nothing), show why as
    error messages and let the caller go on to its redirect. Invalid input shows each of its messages, after
    `intro` and prefixed with `where(field)` when given. `NotFound` is a 404, as anything else the importer
    may not see."""
    refusal = Refusal()
    try:
        yield refusal
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        refusal.error = exc
        if not isinstance(exc, DomainInvalid):
            messages.error(request, exc.message)
            return
        if intro:
            messages.error(request, intro)
        for field, texts in exc.errors.items():
            for text in texts:
                messages.error(request, f"{where(field)}: {text}" if where else text)
