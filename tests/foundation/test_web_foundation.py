import pytest
from litestar import post
from litestar.params import JSONBody
from litestar.testing import TestClient

from conftest import make_settings
from market.web.app import create_app
from market.web.auth.guard import CSRF_EXEMPT
from market.web.auth.rules import PUBLIC

PROBLEM = "application/problem+json"


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_healthz_is_503_when_postgres_is_down():
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    app = create_app(make_settings("postgresql://postgres@127.0.0.1:1/test"))
    with TestClient(app=app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "database" in response.json()["detail"]


def test_unknown_route_is_a_problem(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"]


def _echo_app(tmp_path, **overrides):
    import msgspec

    class Item(msgspec.Struct, forbid_unknown_fields=True):
        name: str
        amount: int

    @post("/echo", sync_to_thread=False, opt={**PUBLIC, CSRF_EXEMPT: True})
    def echo(data: JSONBody[Item]) -> Item:
        return data

    app = create_app(make_settings(f"sqlite:///{tmp_path / 'echo.db'}", **overrides))
    app.register(echo)
    return app


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"name": "x", "amount": ', 400),  # malformed JSON
        (b'{"name": "x", "amount": "many"}', 400),  # wrong shape
        (b'{"name": "x", "amount": 1, "extra": 2}', 400),  # unknown field
    ],
)
def test_bad_bodies_are_problems(body, status, tmp_path):
    with TestClient(app=_echo_app(tmp_path)) as client:
        response = client.post("/echo", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"]


def test_body_over_the_limit_is_413(tmp_path):
    with TestClient(app=_echo_app(tmp_path, max_body_bytes=1024)) as client:
        response = client.post("/echo", content=b'{"name": "' + b"x" * 4096 + b'", "amount": 1}')
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)


def test_good_body_passes(tmp_path):
    with TestClient(app=_echo_app(tmp_path)) as client:
        response = client.post("/echo", json={"name": "bún", "amount": 25000})
    assert response.status_code == 201
    assert response.json() == {"name": "bún", "amount": 25000}


def test_openapi_docs_work_offline(client):
    page = client.get("/schema")
    assert page.status_code == 200
    html = page.text
    assert "/static/swagger/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "unpkg" not in html.lower()
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/swagger/swagger-ui.css").status_code == 200
    spec = client.get("/schema/openapi.json").json()
    assert "/healthz" in spec["paths"]
