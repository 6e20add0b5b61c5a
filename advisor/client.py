"""Typed Python client of the REST API (``api/``), with the same pydantic models.

    from advisor.client import AdvisorClient
    client = AdvisorClient("http://127.0.0.1:8000", api_key="adv_…")
    data = client.upload("train.csv", label="species")
    rec = client.recommend(data.id)                     # RecommendationOut
    run = client.wait(client.run(data.id, n_trials=20).id)
    client.report(run.id, "report.html")
    client.predict(run.id, X_new).labels

Requests that get the rate limit's 429 (``http.429``), 502/503/504, or no connection, are
retried with exponential backoff (honouring ``Retry-After``); any other problem — another 429,
such as ``run.too_many``, included — raises :class:`ApiError` carrying the problem's stable
``code``. A request that went out but got no answer (a read timeout, a
connection dropped mid-request) is retried only when sending it twice does no harm (reads,
deletes, predictions); a request that creates something (an upload, a run, a recommendation)
raises :class:`NoAnswerError` at once instead, since the service may have carried it out (nor
is it sent again after a gateway's 502 or 504). Connection problems are
:class:`ConnectionError` (:class:`NotSentError`, :class:`NoAnswerError`), never
:class:`ApiError`. :meth:`AdvisorClient.for_flask` drives a Flask test client instead of HTTP
(tests).
"""

from __future__ import annotations

import datetime
import io
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd
import requests
from pydantic import BaseModel, TypeAdapter
from tqdm import tqdm
from urllib3.exceptions import MaxRetryError, NewConnectionError

from advisor.errors import BAD_INSTANCES, AdvisorError
from advisor.wire import (
    FINAL_STATES,
    ComparisonOut,
    DatasetOut,
    DatasetPage,
    MetaFeaturesOut,
    Predictions,
    Problem,
    RecommendationOut,
    ReportFormat,
    RunOut,
    RunPage,
    RunResultOut,
    SourceOut,
)

M = TypeVar("M", bound=BaseModel)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Answers after which a request that may safely be sent twice is sent again."""
REFUSED_STATUSES = frozenset({429, 503})
"""Answers that say the service did not carry the request out: any request is sent again
(a gateway's 502 or 504 may come after the service got the request, so only the above)."""
RATE_LIMITED = "http.429"
"""The code of the rate limit's 429, the only 429 that is retried: another (``run.too_many``,
too many runs at once) does not go away by waiting a while."""
REPORT_SUFFIXES: dict[str, ReportFormat] = {
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".json": "json",
}
"""The report format :meth:`AdvisorClient.report` writes to a file of each suffix."""
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods whose requests do no harm when the service gets them twice."""


class ApiError(AdvisorError):
    """The service answered with a problem; ``code`` is its stable error code.

    ``details`` are the problem's ``facts`` (the offending columns, rows, limit…), as a local
    :class:`~advisor.errors.AdvisorError` of the same failure carries them.

    ``status`` (and ``status_code``) is the HTTP status of the answer, not the class's default.
    """

    def __init__(self, problem: Problem) -> None:
        facts = {k: v for k, v in (problem.facts or {}).items() if k not in ("code", "message")}
        super().__init__(problem.detail or problem.title, code=problem.code, **facts)
        self.problem = problem
        self.status_code = problem.status
        # the answer's status, where AdvisorError has one per class (its 400 for a 409 once)
        self.status = problem.status  # type: ignore[misc]


class NotSentError(ConnectionError):
    """The request never reached the service: sending it again is safe, whatever it does.

    Connection refused, connect timeout, unknown host.
    """


class NoAnswerError(ConnectionError):
    """A request went out but got no answer: the service may have carried it out.

    A read timeout, or a connection dropped mid-request (or any failure a transport cannot
    place before the request left).

    Requests that may safely be sent twice (reads, deletes, predictions) are retried first;
    one that creates something (an upload, a run, a source, a recommendation) raises this at
    once. Look (``client.datasets()``, ``client.runs()``) before sending it again.
    """


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, whichever transport carried it."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.content)


class Transport(Protocol):
    """Sends one request (HTTP, or a Flask test client)."""

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json_body: Any,
        files: Mapping[str, tuple[str, bytes]] | None,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str],
    ) -> Reply:
        """Send the request.

        Raises:
            NotSentError: the request certainly never reached the service.
            ConnectionError: any other failure to get an answer (:class:`NoAnswerError`
                where the request went out); taken as "the service may have carried it out".
        """
        ...


class HttpTransport:
    """Real HTTP with :mod:`requests` (keep-alive session)."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json_body: Any,
        files: Mapping[str, tuple[str, bytes]] | None,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str],
    ) -> Reply:
        """Send over HTTP."""
        try:
            answer = self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json_body,
                files=files,
                data=form,
                headers=dict(headers),
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            if _never_sent(error):
                raise NotSentError(str(error)) from error
            raise NoAnswerError(str(error)) from error
        return Reply(answer.status_code, dict(answer.headers), answer.content)


def _never_sent(error: requests.RequestException) -> bool:
    """Whether ``error`` struck before the request left: no connection was ever made.

    ``requests`` raises :class:`~requests.ConnectTimeout` when connecting took too long, and
    a :class:`~requests.ConnectionError` wrapping urllib3's ``NewConnectionError`` (refused,
    unreachable, unknown host) when connecting failed; anything else (a read timeout, a
    connection reset or closed mid-request) may have come after the service got it.
    """
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


class FlaskTransport:
    """Requests through a Flask test client (no network)."""

    def __init__(self, test_client: Any) -> None:
        self.test_client = test_client

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json_body: Any,
        files: Mapping[str, tuple[str, bytes]] | None,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str],
    ) -> Reply:
        """Send through the test client."""
        options: dict[str, Any] = {"headers": dict(headers), "query_string": params or {}}
        if files:
            data: dict[str, Any] = dict(form or {})
            data.update({k: (io.BytesIO(b), name) for k, (name, b) in files.items()})
            options.update(data=data, content_type="multipart/form-data")
        elif json_body is not None:
            options["json"] = json_body
        answer = self.test_client.open(path, method=method, **options)
        return Reply(answer.status_code, dict(answer.headers), answer.data)


class AdvisorClient:
    """Client of the AutoML Advisor REST API.

    Args:
        base_url: the service, e.g. ``http://127.0.0.1:8000``.
        api_key: an ``adv_…`` key (``None`` for a server in open-access mode).
        retries: attempts after the first on the rate limit's 429 (``http.429``), 502/503/504
            or a connection error (only on that 429, a 503 or a refused connection for a
            request that creates something: see :class:`NoAnswerError`).
        backoff: first wait in seconds; doubled after each retry (``Retry-After`` wins).
        timeout: seconds to wait for the connection, then for the answer, over HTTP.
        transport: how requests travel (HTTP by default).
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        retries: int = 5,
        backoff: float = 0.5,
        timeout: float = 60.0,
        transport: Transport | None = None,
    ) -> None:
        self.api_key = api_key
        self.retries = retries
        self.backoff = backoff
        self.transport: Transport = transport or HttpTransport(base_url, timeout)

    @classmethod
    def for_flask(
        cls, test_client: Any, api_key: str | None = None, **options: Any
    ) -> AdvisorClient:
        """A client that drives a Flask test client (``app.test_client()``)."""
        return cls(api_key=api_key, transport=FlaskTransport(test_client), **options)

    # -- plumbing ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
        form: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Reply:
        """Send a request, retrying what may be retried; raise :class:`ApiError` on a problem.

        ``idempotent``: whether the service may get the request twice without harm (default:
        by the method, :data:`IDEMPOTENT_METHODS`). Only such requests are sent again after a
        request that went out got no answer, or after a gateway's 502 or 504.

        Raises:
            ApiError: the service answered with a problem.
            NoAnswerError: a request that is not idempotent went out and got no answer.
            ConnectionError: the service could not be reached, retries exhausted.
        """
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        retry_statuses = RETRY_STATUSES if safe else REFUSED_STATUSES
        wait = self.backoff
        maybe_done = False  # an earlier attempt may have been carried out
        for attempt in range(self.retries + 1):
            try:
                reply = self.transport.send(
                    method,
                    path,
                    params=params,
                    json_body=json_body,
                    files=files,
                    form=form,
                    headers=headers,
                )
            except ConnectionError as error:
                sent = not isinstance(error, NotSentError)
                if sent and not safe:
                    raise NoAnswerError(
                        f"{method} {path} got no answer ({error}). The service may have "
                        "carried it out, so it was not sent again: look (e.g. "
                        "client.datasets(), client.runs()) before sending it again."
                    ) from error
                if attempt == self.retries:
                    raise
                maybe_done = maybe_done or sent
                time.sleep(wait)
                wait *= 2
                continue
            if reply.status == 404 and method.upper() == "DELETE" and maybe_done:
                return reply  # an earlier attempt that got no answer deleted it
            if reply.status in retry_statuses and attempt < self.retries and _retried(reply):
                retry_after = reply.headers.get("Retry-After")
                time.sleep(float(retry_after) if retry_after and retry_after.isdigit() else wait)
                wait *= 2
                continue
            if reply.status >= 400:
                raise ApiError(_problem(reply))
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, path: str, model: type[M], **params: Any) -> M:
        return model.model_validate(self._request("GET", path, params=params).json())

    # -- datasets ----------------------------------------------------------------------------

    def upload(
        self,
        data: str | Path | bytes,
        *,
        name: str | None = None,
        label: str | None = None,
        **options: Any,
    ) -> DatasetOut:
        """Upload a file (path or bytes) with the data layer's load options.

        ``options`` are fields of :class:`~advisor.datasets.LoadOptions`, e.g.
        ``drop=["customer", "notes"]``, ``identifiers="keep"``, ``image_size=(32, 32)``.
        """
        if isinstance(data, str | Path):
            path = Path(data)
            content, name = path.read_bytes(), name or path.name
        else:
            content, name = data, name or "upload"
        form = {
            k: _form_value(k, v) for k, v in {"label": label, **options}.items() if v is not None
        }
        reply = self._request("POST", "/v1/datasets", files={"file": (name, content)}, form=form)
        return DatasetOut.model_validate(reply.json())

    def datasets(self, page: int = 1, per_page: int = 20) -> DatasetPage:
        """One page of your datasets, newest first."""
        return self._get("/v1/datasets", DatasetPage, page=page, per_page=per_page)

    def dataset(self, dataset_id: str) -> DatasetOut:
        """One dataset."""
        return self._get(f"/v1/datasets/{dataset_id}", DatasetOut)

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset."""
        self._request("DELETE", f"/v1/datasets/{dataset_id}")

    def meta_features(self, dataset_id: str, source: str = "glyphs") -> MetaFeaturesOut:
        """A dataset's meta-features against a source."""
        return self._get(f"/v1/datasets/{dataset_id}/meta-features", MetaFeaturesOut, source=source)

    # -- sources and recommendations -------------------------------------------------------

    def sources(self) -> list[SourceOut]:
        """The sources you can use."""
        reply = self._request("GET", "/v1/sources")
        return TypeAdapter(list[SourceOut]).validate_python(reply.json())

    def recommend(self, dataset_id: str, source: str = "glyphs") -> RecommendationOut:
        """Recommend a family for a dataset (synchronous, about a second)."""
        body = {"dataset_id": dataset_id, "source": source}
        reply = self._request("POST", "/v1/recommendations", json_body=body)
        return RecommendationOut.model_validate(reply.json())

    # -- runs ------------------------------------------------------------------------------

    def run(
        self,
        dataset_id: str,
        *,
        family: str | None = None,
        n_trials: int | None = None,
        timeout: float | None = None,
        test_dataset_id: str | None = None,
        source: str = "glyphs",
        seed: int = 0,
        metric: str = "accuracy",
        learning_curve: bool = False,
        recalibrate: bool = False,
    ) -> RunOut:
        """Start a tuned run (queued; see :meth:`wait`).

        The budget: ``n_trials`` trials and/or ``timeout`` seconds, whichever ends first; with
        neither given, 20 trials; with a ``timeout`` alone, that time and no trial limit.
        ``metric`` is what tuning maximises: ``accuracy``, or ``balanced_accuracy`` (the mean
        of the classes' recalls) for imbalanced classes. ``learning_curve`` also measures what
        twice the examples per class would add (the result's ``learning_curve``);
        ``recalibrate`` temperature-scales the model's probabilities (``recalibration``).
        """
        budget = {} if n_trials is None else {"n_trials": n_trials}  # left out: the default
        body = {
            "dataset_id": dataset_id,
            "family": family,
            **budget,
            "timeout": timeout,
            "test_dataset_id": test_dataset_id,
            "source": source,
            "seed": seed,
            "metric": metric,
            "learning_curve": learning_curve,
            "recalibrate": recalibrate,
        }
        return RunOut.model_validate(self._request("POST", "/v1/runs", json_body=body).json())

    def get_run(self, run_id: str) -> RunOut:
        """A run's state and progress."""
        return self._get(f"/v1/runs/{run_id}", RunOut)

    def runs(self, page: int = 1, per_page: int = 20) -> RunPage:
        """One page of your runs, newest first."""
        return self._get("/v1/runs", RunPage, page=page, per_page=per_page)

    def cancel(self, run_id: str) -> RunOut:
        """Cancel a run."""
        reply = self._request("POST", f"/v1/runs/{run_id}/cancel", idempotent=True)
        return RunOut.model_validate(reply.json())

    def delete_source(self, name: str) -> None:
        """Delete a source of yours (409 while it is built or a run needs it)."""
        self._request("DELETE", f"/v1/sources/{name}")

    def delete_run(self, run_id: str) -> None:
        """Delete a finished run: its record, model, reports and study (409 while active)."""
        self._request("DELETE", f"/v1/runs/{run_id}")

    def wait(
        self,
        run_id: str,
        *,
        poll: float = 1.0,
        timeout: float | None = None,
        progress: bool | Callable[[RunOut], None] = True,
    ) -> RunOut:
        """Poll a run until it is final; ``progress`` is a tqdm bar, a callback, or off.

        Raises:
            TimeoutError: ``timeout`` seconds passed first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = tqdm(desc=f"run {run_id}", unit="trial") if progress is True else None
        try:
            while True:
                run = self.get_run(run_id)
                if callable(progress):
                    progress(run)
                if bar is not None:
                    bar.total = run.progress.trials_total
                    bar.n = run.progress.trials_done
                    best = run.progress.best_score
                    bar.set_postfix_str(f"{run.state}, best {best:.3f}" if best else run.state)
                if run.state in FINAL_STATES:
                    return run
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"Run {run_id} is still {run.state} after {timeout} s.")
                time.sleep(poll)
        finally:
            if bar is not None:
                bar.close()

    def result(self, run_id: str) -> RunResultOut:
        """What a succeeded run found."""
        return self._get(f"/v1/runs/{run_id}/result", RunResultOut)

    def report(
        self,
        run_id: str | None = None,
        path: str | Path | None = None,
        *,
        format: ReportFormat | None = None,
        recommendation_id: str | None = None,
    ) -> bytes:
        """A run's (or a recommendation's) report; written to ``path`` too when given.

        ``format`` (``html``, ``md``, ``json``) defaults to the one ``path``'s suffix names
        (:data:`REPORT_SUFFIXES`: ``.html``/``.htm``, ``.md``/``.markdown``, ``.json``), or
        ``html`` without a path.

        Raises:
            ValueError: neither or both ids; or no ``format`` and a ``path`` whose suffix names
                none (before anything is sent).
        """
        if (run_id is None) == (recommendation_id is None):
            raise ValueError("Give a run id or a recommendation_id, not both.")
        if format is None:
            format = "html" if path is None else _report_format(Path(path))
        where = f"/v1/runs/{run_id}" if run_id else f"/v1/recommendations/{recommendation_id}"
        content = self._request("GET", f"{where}/report", params={"format": format}).content
        if path is not None:
            Path(path).write_bytes(content)
        return content

    def predict(self, run_id: str, instances: Any) -> Predictions:
        """Classify rows with a run's fitted model.

        ``instances``: a pandas DataFrame of the training table's columns (sent as records
        and encoded by the service the training table's way; missing values — NaN, None,
        NaT — are sent as null and filled as in training; dates and times as the text pandas
        writes to a CSV, ``2024-01-05`` or ``2024-01-05 10:30:00``), or an array of encoded
        vectors or images. uint8 images are sent as integers, pixel levels 0–255; images of
        any other dtype as numbers in [0, 1] (as :func:`learners.tensors.to_tensor` takes
        them). NaN in an array is sent as null, which the service refuses for arrays
        (``predict.bad_instances``: only a table's named columns are filled).

        Raises:
            ApiError: ``predict.bad_instances`` (status 422, before anything is sent) for
                values JSON cannot carry: infinities, complex numbers, objects; or the
                service's problem.
        """
        rows = _instances(instances, f"/v1/runs/{run_id}/predict")
        body = {"instances": rows}
        reply = self._request("POST", f"/v1/runs/{run_id}/predict", json_body=body, idempotent=True)
        return Predictions.model_validate(reply.json())

    def predict_file(
        self,
        run_id: str,
        data: str | Path | bytes,
        *,
        name: str | None = None,
        label: str | None = None,
    ) -> Predictions:
        """Classify the rows of a file (path or bytes) with a run's fitted model.

        Any format the data layer reads: a table (by the training table's column names, or
        already-encoded numbers), an NPZ archive, or a zip of images (loose, or in class
        folders); ``label`` names the file's label column if it has one (it is not a feature).
        """
        content, name = _file(data, name)
        form = {} if label is None else {"label": label}
        reply = self._request(
            "POST",
            f"/v1/runs/{run_id}/predict",
            files={"file": (name, content)},
            form=form,
            idempotent=True,
        )
        return Predictions.model_validate(reply.json())

    def compare(
        self,
        run_a: str,
        run_b: str,
        data: str | Path | bytes,
        *,
        label: str | None = None,
        metric: str | None = None,
        name: str | None = None,
    ) -> ComparisonOut:
        """Score two runs on the same labeled rows of a file (path or bytes), paired test."""
        content, name = _file(data, name)
        form = {"other": run_b} | {k: v for k, v in (("label", label), ("metric", metric)) if v}
        reply = self._request(
            "POST",
            f"/v1/runs/{run_a}/compare",
            files={"file": (name, content)},
            form=form,
            idempotent=True,
        )
        return ComparisonOut.model_validate(reply.json())


def _instances(instances: Any, path: str) -> list[Any]:
    """Rows to predict as JSON-ready lists (see :meth:`AdvisorClient.predict`).

    Raises:
        ApiError: ``predict.bad_instances`` for values JSON cannot carry.
    """
    if hasattr(instances, "columns") and hasattr(instances, "to_dict"):  # a DataFrame
        return _records(instances, path)
    try:
        array = np.asarray(instances)
    except ValueError:  # ragged lists: sent as they are, for the service to judge
        return list(_json_ready(list(instances), path, "instances"))
    if array.dtype.kind in "iubf":
        return _numbers(array, path)
    if array.dtype.kind in "US":
        return list(array.tolist())  # text: the service says what it takes
    if array.dtype.kind == "O":  # records (dicts), or lists holding None, dates, numpy scalars
        return list(_json_ready(array.tolist(), path, "instances"))
    raise _refused(
        f"The instances are an array of dtype {array.dtype}; send numbers (vectors or images), "
        "or a DataFrame of the training table's columns.",
        path,
    )


def _numbers(array: np.ndarray, path: str) -> list[Any]:
    """A numeric array as nested lists: JSON integers for pixel levels, numbers in [0, 1] else.

    uint8 images (and integer vectors) are sent as integers, which the service reads as pixel
    levels 0–255 (for images); images of another integer or bool dtype as floats, values in
    [0, 1] as :func:`learners.tensors.to_tensor` takes them; NaN as null.
    """
    levels = array.dtype == np.uint8 or array.ndim < 3
    if array.dtype.kind in "iub" and levels:
        return list(array.tolist())
    numbers = array.astype(np.float64)
    if np.isinf(numbers).any():
        raise _refused("The instances hold infinite values; send finite numbers.", path)
    missing = np.isnan(numbers)
    if missing.any():
        cells = numbers.astype(object)
        cells[missing] = None
        return list(cells.tolist())
    return list(numbers.tolist())


def _records(frame: Any, path: str) -> list[dict[str, Any]]:
    """A DataFrame's rows as JSON records: missing values null, dates as pandas writes them."""
    columns: dict[str, list[Any]] = {}
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        present = column.notna().tolist()
        if column.dtype.kind in "mM":  # datetime64 (with a zone or not), timedelta64
            values = column.astype(str).tolist()  # "2024-01-05", as in a CSV pandas writes
        else:
            where = f"column {name!r}"
            values = [_json_ready(v, path, where) for v in column.astype(object).tolist()]
        columns[str(name)] = [
            v if known else None for v, known in zip(values, present, strict=True)
        ]
    return [{name: values[row] for name, values in columns.items()} for row in range(len(frame))]


def _json_ready(value: Any, path: str, where: str) -> Any:
    """``value`` with only what JSON carries: NaN and missing values as None, dates as text.

    Raises:
        ApiError: ``predict.bad_instances`` for infinities and values of other types.
    """
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v, path, f"column {k!r}") for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_ready(v, path, where) for v in value]
    if isinstance(value, np.datetime64 | np.timedelta64):
        value = pd.Timestamp(value) if isinstance(value, np.datetime64) else pd.Timedelta(value)
    if value is None or value is pd.NaT or value is pd.NA:
        answer: Any = None
    elif isinstance(value, str | bool | np.bool_):
        answer = value if isinstance(value, str) else bool(value)
    elif isinstance(value, int | np.integer):
        answer = int(value)
    elif isinstance(value, float | np.floating | Decimal) and not math.isinf(float(value)):
        answer = None if math.isnan(float(value)) else float(value)
    elif isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        answer = str(value)  # 2024-01-05, 2024-01-05 10:30:00: as pandas writes a CSV
    else:
        kind = (
            "an infinite number"
            if isinstance(value, float | np.floating | Decimal)
            else f"a value of type {type(value).__name__} ({str(value)[:40]!r})"
        )
        raise _refused(
            f"{where[:1].upper()}{where[1:]} holds {kind}, which cannot be sent as JSON; "
            "send finite numbers, text, dates or missing values.",
            path,
        )
    return answer


def _refused(detail: str, path: str) -> ApiError:
    """The problem the service would answer for rows it cannot take, raised before sending."""
    problem = Problem(
        title="Unprocessable content", status=422, detail=detail, code=BAD_INSTANCES, instance=path
    )
    return ApiError(problem)


def _file(data: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    """A file's bytes and the name to send it under (its own, for a path)."""
    if isinstance(data, str | Path):
        path = Path(data)
        return path.read_bytes(), name or path.name
    return data, name or "rows"


def _report_format(path: Path) -> ReportFormat:
    """The report format ``path``'s suffix names (:data:`REPORT_SUFFIXES`).

    Raises:
        ValueError: another suffix, or none.
    """
    found = REPORT_SUFFIXES.get(path.suffix.lower())
    if found is None:
        suffix = f"suffix {path.suffix!r}" if path.suffix else "no suffix"
        raise ValueError(
            f"Cannot tell a report format from {path.name!r} ({suffix}): name it .html, .htm, "
            ".md, .markdown or .json, or pass format='html', 'md' or 'json'."
        )
    return found


def _retried(reply: Reply) -> bool:
    """Whether an answer of a retried status may be retried: a 429 only if it is the rate limit's.

    That is, its code is :data:`RATE_LIMITED` (a gateway's 429, without a problem, counts too).
    """
    return reply.status != 429 or _problem(reply).code == RATE_LIMITED


def _form_value(name: str, value: Any) -> str:
    """A load option as a form field: ``image_size`` as ``HxW``, other lists as JSON."""
    if isinstance(value, tuple | list):
        if name == "image_size":
            return "x".join(str(v) for v in value)
        return json.dumps([str(v) for v in value])
    return str(value)


def _problem(reply: Reply) -> Problem:
    try:
        return Problem.model_validate(reply.json())
    except (ValueError, TypeError):
        text = reply.content[:500].decode("utf-8", "replace")
        return Problem(
            title="HTTP error", status=reply.status, detail=text, code=f"http.{reply.status}"
        )
