# Multi-stage: a static binary on a distroless base, run as non-root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/palaute ./cmd/palaute

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/palaute /palaute
COPY config.yaml /etc/palaute/config.yaml
ENV PALAUTE_HTTP_LISTEN=0.0.0.0:8080
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/palaute"]
CMD ["serve", "-config", "/etc/palaute/config.yaml"]
