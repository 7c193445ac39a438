"""The dashboard in a real browser (Debian's chromium driven by Playwright) against real uvicorn."""
