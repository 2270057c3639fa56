# palaute. `make run` chats with the Finnish youth survey in the terminal; `make test` runs every check.
GO ?= go
PKGS ?= ./...

.PHONY: run test vet bench fuzz build tidy

run:
	$(GO) run ./cmd/palaute demo

build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags timetzdata -ldflags='-s -w' -o bin/palaute ./cmd/palaute

# test installs redis-server when missing (as root, with apt-get), so the suites run against a real Redis.
test:
	@scripts/ensure-redis
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	PALAUTE_REQUIRE_REDIS=1 $(GO) test -race -count=1 -timeout 12m -skip '$(ALONE)' $(PKGS)
	PALAUTE_REQUIRE_REDIS=1 $(GO) test -race -count=1 -timeout 5m -run '$(ALONE)' ./bot/telegram/

# ALONE are the tests that hold Telegram's 30 messages a second to the millisecond against a fake Bot API
# that answers 429 beyond it: they run after the rest, alone, because other packages' tests starving the
# two cores delay sends by more than the limiter's margin (a send delayed 70 ms crowds a second).
ALONE = TestGlobalRateHasNo429s

vet:
	$(GO) vet $(PKGS)

bench:
	@scripts/ensure-redis
	PALAUTE_REQUIRE_REDIS=1 $(GO) test -run '^$$' -bench . -benchmem -benchtime 2000x ./bot/ ./store/ ./cmd/palaute/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzHandle -fuzztime 30s ./bot/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./flows/

tidy:
	$(GO) mod tidy
