"""Invalid input, whatever it is about (Part I, an upload, a check, a decision), answers the same way."""

from inspection.api.errors import api_exception_handler
from inspection.errors import DomainError, DomainInvalid, PartOneInvalid, UploadRefused


def test_part_one_and_upload_refusals_are_invalid_input():
    assert issubclass(PartOneInvalid, DomainInvalid) and issubclass(UploadRefused, DomainInvalid)
    assert issubclass(DomainInvalid, DomainError) and not issubclass(UploadRefused, PartOneInvalid)


def test_invalid_input_keeps_its_messages_by_field():
    refused = DomainInvalid({"reason": ["Give the reason."], "": ["Nothing was recorded."]})
    assert refused.errors == {"reason": ["Give the reason."], "": ["Nothing was recorded."]}
    assert refused.message == "reason: Give the reason.; Nothing was recorded."


def test_the_api_answers_invalid_input_that_is_not_part_one_with_a_400_by_field():
    refused = DomainInvalid({"verdicts": ["Give a verdict on every accompanying document."], "": ["Refused."]})
    response = api_exception_handler(refused, {})
    assert response.status_code == 400
    assert response.data == {
        "verdicts": ["Give a verdict on every accompanying document."],
        "non_field_errors": ["Refused."],
    }
