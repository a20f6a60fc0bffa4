#!/usr/bin/env bash
# Renders the pictures in assets/ again from the app's own screens (120x40, SVG). The test
# `the_pictures_in_assets_show_the_app_as_it_is` fails until this has run after a screen changed.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_ASSETS=1 cargo test --lib --quiet the_pictures_in_assets_show_the_app_as_it_is
ls -1 assets/*.svg
