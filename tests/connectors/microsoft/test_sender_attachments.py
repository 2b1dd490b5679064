"""The welcome's policy agreement reaches an Outlook client whichever way it is sent."""

from __future__ import annotations

import base64
import email
import email.policy
import json

import responses

from tests.connectors.microsoft.test_sender import answer, notice, sender
from worker.pipeline.sender import Outcome

PDF = b"%PDF-1.4\n% the policy agreement\n"


def welcome() -> email.message.EmailMessage:
    message = notice()
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="agreement.pdf")
    return message


def test_as_mime_the_agreement_goes_inside_the_message(mocked: responses.RequestsMock) -> None:
    answer(mocked, 202)
    assert sender().send(welcome()).outcome is Outcome.SENT
    [call] = mocked.calls
    assert isinstance(call.request.body, bytes)
    parsed = email.message_from_bytes(
        base64.b64decode(call.request.body), policy=email.policy.default
    )
    [attached] = list(parsed.iter_attachments())
    assert (attached.get_filename(), attached.get_content()) == ("agreement.pdf", PDF)


def test_without_sent_items_the_json_form_carries_the_agreement_as_a_file_attachment(
    mocked: responses.RequestsMock,
) -> None:
    answer(mocked, 202)
    assert sender(save_to_sent_items=False).send(welcome()).outcome is Outcome.SENT
    [call] = mocked.calls
    assert isinstance(call.request.body, bytes)
    graph = json.loads(call.request.body)["message"]
    assert graph["attachments"] == [
        {
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "agreement.pdf",
            "contentType": "application/pdf",
            "contentBytes": base64.b64encode(PDF).decode("ascii"),
        }
    ]
    assert graph["body"]["contentType"] == "HTML", "the body is still the notice itself"
