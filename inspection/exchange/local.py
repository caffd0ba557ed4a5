"""An in-process route to the local hub double: the HTTP requests zeep makes are handed to Django's request
handler in this process (URL routing, middleware, the double's view), with no network hop. For the demo, which
sends its envelopes before the web server runs and answers them as the importing NPPOs would, and for the tests.
Never used with the real hub."""

from urllib.parse import urlsplit

import requests
from django.test import Client
from requests.structures import CaseInsensitiveDict


class DoubleRoute(requests.adapters.BaseAdapter):
    """A requests adapter that answers from the double. `nppo` stands for the TLS client certificate of the
    calling NPPO (the double reads it from `X-Hub-Double-NPPO`); empty, our own NPPO."""

    def __init__(self, nppo: str = ""):
        super().__init__()
        self.nppo, self.client = nppo, Client()

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        headers = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in request.headers.items()
            if name.lower() not in ("content-type", "content-length", "host")
        }
        if self.nppo:
            headers["HTTP_X_HUB_DOUBLE_NPPO"] = self.nppo
        answer = self.client.generic(
            request.method,
            url.path + (f"?{url.query}" if url.query else ""),
            data=request.body or b"",
            content_type=request.headers.get("Content-Type", ""),
            HTTP_HOST=url.netloc,
            **headers,
        )
        response = requests.Response()
        response.status_code, response._content = answer.status_code, answer.content
        response.headers = CaseInsensitiveDict(answer.headers)
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self):
        pass

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("http://", self)
        session.mount("https://", self)
        return session
