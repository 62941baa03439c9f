# regua's image: the package on a slim Python, run as an unprivileged user, `regua` as the
# entrypoint (`docker run regua --version`, `... db upgrade`, `... serve`, `... worker`).
# compose.yaml runs the API with its scheduler, the workers, PostgreSQL and Redis.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/regua --create-home regua
USER regua
WORKDIR /var/lib/regua
# Messages written instead of sent, and the letters' PDFs: a volume in compose.yaml.
ENV REGUA_OUTBOX_DIR=/var/lib/regua/caixa \
    REGUA_LOG_FORMAT=json
EXPOSE 8000
ENTRYPOINT ["regua"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
