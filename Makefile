# tocsin: the two commands a new operator needs are `make run` and `make test`.
CARGO ?= cargo
LISTEN ?= :9093

.PHONY: run build test lint fmt bench demo test-deps clean

build:
	$(CARGO) build --release --bin tocsin

## Build and run one node on :9093 with the example configuration (clustering off, data in ./data).
run: build
	./target/release/tocsin --config.file=examples/alertmanager.yml --web.listen-address=$(LISTEN) \
		--cluster.listen-address= --storage.path=data/

## The whole suite: formatting, lints, unit, API and black-box tests.
test: lint
	$(CARGO) test --workspace --all-targets --no-fail-fast

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --workspace --no-deps --quiet

fmt:
	$(CARGO) fmt --all

## Benchmarks against Alertmanager 0.25 when /usr/bin/prometheus-alertmanager is installed.
bench:
	$(CARGO) build --release --bin tocsin
	$(CARGO) run --release -p tocsin-bench -- --tocsin target/release/tocsin $(BENCH_ARGS)

## Two clustered nodes and a webhook sink on loopback: one alert posted to both, one notification received.
demo:
	bash examples/ha/demo.sh

## Installs the peers the tests talk to (amtool, Alertmanager, Prometheus, Go, Chromium). Idempotent.
test-deps:
	bash .ci/install-deps

clean:
	$(CARGO) clean
