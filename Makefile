# One task runner: CI calls `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT ?= out
# `make demo` serves its pages after the batch part until Ctrl-C when run from a terminal (SERVE=auto);
# SERVE=1 serves in any case, SERVE=0 stops after the batch part (tests and CI: nobody there to press
# Ctrl-C). PORT: where it serves, on 127.0.0.1.
SERVE ?= auto
PORT ?= 8000

.PHONY: demo test lint typecheck bench clean vendor-axe vendor-swagger translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian, apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# The demo seals its audit log with a demo key (a real deployment keeps its own outside the store).
demo: $(VENV)/.installed
	@serve="$(if $(filter 0 no false,$(SERVE)),--no-serve,--serve --port $(PORT))"; \
	if [ "$(SERVE)" = auto ] && [ ! -t 0 ]; then serve=--no-serve; \
	  echo "make demo: not run from a terminal, so the pages are not served (SERVE=1 serves them)"; fi; \
	set -x; GARDE_AUDIT_KEY="$${GARDE_AUDIT_KEY:-garde-demo-audit-key-change-me}" $(BIN)/garde demo --out $(OUT) $$serve

# ruff and mypy (strict), as `make test` runs them first.
lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/mypy

# garde's bytecode compiled once first: the suite starts hundreds of Python processes (servers,
# workers, the audit writer, `python -m garde`), and where PYTHONDONTWRITEBYTECODE is set (CI's image
# sets it) each of them compiled src/ again (≈ 0.35 s of CPU each on `import garde.cli`). A stale
# file is still recompiled by Python itself, so an edit after this step cannot run old code.
test: lint
	$(BIN)/python -m compileall -q -j 0 src
	$(BIN)/pytest -n 2 -q

# axe-core (MPL-2.0) for the browser tests, vendored from the npm registry with its licence in
# tests/data/axe-core/: `make test` needs neither npm nor the network for it. Refresh (needs npm):
# bump AXE_VERSION and AXE_INTEGRITY (`npm view axe-core@<v> dist.integrity`), run `make vendor-axe`.
AXE_VERSION := 4.14.1
AXE_INTEGRITY := sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_DIR := tests/data/axe-core

vendor-axe:
	rm -rf build/axe && mkdir -p build/axe
	cd build/axe && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null
	$(PYTHON) -c "import base64, hashlib, sys; d = open('build/axe/axe-core-$(AXE_VERSION).tgz', 'rb').read(); \
	  sys.exit(0 if 'sha512-' + base64.b64encode(hashlib.sha512(d).digest()).decode() == '$(AXE_INTEGRITY)' \
	  else 'axe-core-$(AXE_VERSION).tgz does not match AXE_INTEGRITY')"
	tar -xzf build/axe/axe-core-$(AXE_VERSION).tgz -C build/axe
	mkdir -p $(AXE_DIR)
	cp build/axe/package/axe.min.js build/axe/package/LICENSE $(AXE_DIR)/

# Swagger UI (Apache-2.0) for the API's page /api/v1/docs, vendored from the npm registry into the
# package's static files: the page where staff paste a key runs no script from a CDN. Refresh (needs
# npm): bump SWAGGER_VERSION and SWAGGER_INTEGRITY (`npm view swagger-ui-dist@<v> dist.integrity`).
SWAGGER_VERSION := 5.36.0
SWAGGER_INTEGRITY := sha512-Lt6/Kb0gXmLdiabLhvso4VdJP9V7qJWB0zh0gzeXUV3+CMOTzMmvpJRSXN7EAjfwixwmoi9ezDbLHiexC7lA9A==
SWAGGER_DIR := src/garde/web/static/swagger

vendor-swagger:
	rm -rf build/swagger && mkdir -p build/swagger
	cd build/swagger && npm pack --silent swagger-ui-dist@$(SWAGGER_VERSION) >/dev/null
	$(PYTHON) -c "import base64, hashlib, sys; d = open('build/swagger/swagger-ui-dist-$(SWAGGER_VERSION).tgz', 'rb').read(); \
	  sys.exit(0 if 'sha512-' + base64.b64encode(hashlib.sha512(d).digest()).decode() == '$(SWAGGER_INTEGRITY)' \
	  else 'swagger-ui-dist-$(SWAGGER_VERSION).tgz does not match SWAGGER_INTEGRITY')"
	tar -xzf build/swagger/swagger-ui-dist-$(SWAGGER_VERSION).tgz -C build/swagger
	mkdir -p $(SWAGGER_DIR)
	cp build/swagger/package/swagger-ui-bundle.js build/swagger/package/swagger-ui.css \
	  build/swagger/package/LICENSE build/swagger/package/NOTICE $(SWAGGER_DIR)/

# garde's own words (CLI, lint report and rules, documents, mails; later the web): extract every
# translate(), translate_plural(), gettext(), ngettext(), rule_text() and keyed() text (the last
# two with their context) into the template catalogue, then merge it
# into the fr, en and it catalogues. Translate the new or fuzzy entries in each .po file; the
# tests fail while one lacks a translation. See docs/translations.md.
LOCALE := src/garde/locale
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k translate:2 -k translate_plural:2,3 \
	  -k gettext -k ngettext:1,2 -k rule_text:1c,2 -k keyed:1c,2 --project=garde --copyright-holder="garde contributors" \
	  --no-location --sort-output --no-wrap -o $(LOCALE)/garde.pot .
	$(BIN)/pybabel update -D garde -i $(LOCALE)/garde.pot -d $(LOCALE) --no-wrap --ignore-pot-creation-date

bench: $(VENV)/.test-installed
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
