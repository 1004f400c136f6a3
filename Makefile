# Innosøk — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
INDEX ?= index
CORPUS ?= corpus
PORT ?= 8501

.PHONY: run test install install-dev ocr index rebuild corpus bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed ocr
install-dev: $(VENV)/.installed-dev ocr

# Scanned applications are read with Tesseract (Debian packages); without it they are reported as
# needing OCR. Installed when missing and apt-get can; `make test` then requires it (tests/test_ocr.py).
TESSERACT_PACKAGES = tesseract-ocr tesseract-ocr-nor tesseract-ocr-eng
ocr:
	@tesseract --list-langs 2>/dev/null | grep -qx nor || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TESSERACT_PACKAGES)) || \
		echo "Merk: kunne ikke installere tesseract; skannede søknader leses ikke (OCR)."

# Build the index from the bundled corpus when it is missing (incremental ingest otherwise: `make rebuild`).
index: install
	@test -f $(INDEX)/CURRENT || $(VENV)/bin/innosok ingest $(CORPUS) --index $(INDEX)

rebuild: install
	$(VENV)/bin/innosok ingest $(CORPUS) --index $(INDEX) --rebuild

run: index
	$(VENV)/bin/innosok serve --index $(INDEX) --port $(PORT)

# The browser tests drive Debian's chromium (Playwright's own browser download is not used).
test: install-dev
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	$(PY) -m pytest -q

# Render the sample corpus PDFs, manifest and gold labels from corpus/sources and its supplement (the PDFs
# are committed), then the sentence vectors shipped with them (corpus/embeddings).
corpus: install-dev
	$(PY) -m corpus.render
	$(PY) -m corpus.render --root corpus/supplement
	$(PY) -m corpus.embed

bench: install-dev
	$(PY) bench/run.py
	$(PY) bench/search_scale.py
	$(PY) bench/tagging.py

clean:
	rm -rf $(INDEX)/gen-* $(INDEX)/CURRENT .pytest_cache
