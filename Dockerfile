# palaute: a static binary on a distroless base, run as an unprivileged user.
#   docker build -t palaute .
#   docker compose up -d        (with Redis; see docker-compose.yml and README "Run in production")

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), no symbol tables, the time zone database inside (summaries run on Europe/Helsinki time).
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags='-s -w' -o /out/palaute ./cmd/palaute \
 && /out/palaute validate \
 && /out/palaute validate -config config.yaml

# distroless/static: CA certificates for Telegram and Slack over HTTPS, no shell, user 65532 (nonroot).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/palaute /palaute
COPY config.yaml /etc/palaute/config.yaml
# Listen on every interface inside the container; publish the port only where it is needed.
ENV PALAUTE_HTTP_LISTEN=0.0.0.0:8080
# The configuration of every command run without -config (docker compose exec palaute /palaute invite ...).
ENV PALAUTE_CONFIG=/etc/palaute/config.yaml
USER nonroot:nonroot
EXPOSE 8080
# Ready = Redis reachable and flows loaded (GET /readyz); the image has no curl, the binary asks itself.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["/palaute", "health", "-config", "/etc/palaute/config.yaml"]
# SIGTERM: palaute stops taking updates and finishes those in hand within shutdown_timeout (15 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/palaute"]
CMD ["serve", "-config", "/etc/palaute/config.yaml"]
