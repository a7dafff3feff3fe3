# idlog in a container: 'idlog serve' as a non-root user, the store and the
# tokens in the /var/lib/idlog volume.
#
#   docker build -t idlog .
#   docker run --rm -v idlog-data:/var/lib/idlog idlog token create --data-dir /var/lib/idlog --name admin --scope admin
#   docker run -d --name idlog -p 8080:8080 -v idlog-data:/var/lib/idlog idlog
#
# DuckDB needs cgo and glibc, so the build and the runtime are Debian.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=1 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.release=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/idlog ./cmd/idlog

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 idlog \
    && useradd --system --uid 10001 --gid idlog --home-dir /var/lib/idlog --shell /usr/sbin/nologin idlog \
    && install -d -o idlog -g idlog -m 0700 /var/lib/idlog
COPY --from=build /out/idlog /usr/bin/idlog
USER idlog:idlog
WORKDIR /var/lib/idlog
VOLUME ["/var/lib/idlog"]
ENV IDLOG_ADDR=0.0.0.0:8080 \
    IDLOG_STORE=duckdb:/var/lib/idlog/events.duckdb \
    IDLOG_DATA_DIR=/var/lib/idlog \
    IDLOG_LOG_JSON=true
EXPOSE 8080
# 'docker stop' sends SIGTERM: idlog finishes requests and ingests first.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/idlog"]
CMD ["serve"]
