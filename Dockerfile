# The conformance suite as an image: `docker run --env-file ghippo.env IMAGE [pytest options]`.
# Not built in this project's CI (no Docker engine there); it mirrors the tested entry point:
# `pip install .` then `ghippo-conformance`.
FROM python:3.11-slim
WORKDIR /work
COPY . /src
RUN pip install --no-cache-dir /src && rm -rf /src
# Reports go to /reports, a volume the caller mounts to keep them.
VOLUME /reports
ENTRYPOINT ["ghippo-conformance"]
CMD ["--conformance-report", "/reports/conformance.json", "--junitxml", "/reports/junit.xml"]
