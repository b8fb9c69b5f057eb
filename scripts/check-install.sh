#!/usr/bin/env bash
# The install each kind of user gets, checked from the built distributions:
#  1. build the sdist, and the wheel from it;
#  2. install the core wheel alone (`pip install cvid`) into a fresh virtual environment,
#     check that no extra's package came with it, and audit the shipped published
#     agreement with it: `cvid log verify-tiles`, `cvid status`, `cvid report` and the
#     inspection game (`cvid game`); a command that needs an extra must say which;
#  3. install `cvid[all]` into another and run the demo walkthrough (--no-serve).
# Dependencies come from the package index, pinned to requirements.lock's versions.
# CVID_VENV names the environment that builds (default .venv, made by `make`).
# Any failure stops the script with a non-zero status and names the command that failed;
# the temporary directory (environments, distributions) is removed however it ends.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
venv=${CVID_VENV:-.venv}
work=$(mktemp -d "${TMPDIR:-/tmp}/cvid-install.XXXXXX")
# Building writes src/cvid.egg-info beside the sources: removed after, unless it was there.
egg=src/cvid.egg-info
[ -e "$egg" ] && egg=
trap 'rm -rf "$work" ${egg:+"$egg"}' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'status=$?; printf "check-install: FAILED (status %d) at line %d: %s\n" "$status" "$LINENO" "$BASH_COMMAND" >&2' ERR
uv=("$venv/bin/python" -m uv)
started=$SECONDS
step() { printf 'check-install: %s (%ds)\n' "$1" $((SECONDS - started)); }
fail() { printf 'check-install: FAILED: %s\n' "$1" >&2; exit 1; }

step "building the sdist and the wheel"
"$venv/bin/python" -m build --no-isolation --outdir "$work/dist" . >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "building the sdist and the wheel"; }
wheel=$(ls "$work"/dist/cvid-*.whl)
ls "$work"/dist/cvid-*.tar.gz >/dev/null
# The lock's versions, without its hashes, as constraints.
sed -n 's/^\([A-Za-z0-9_.-]*==[^ ;]*\).*/\1/p' requirements.lock >"$work/constraints.txt"

step "installing the core wheel alone"
"${uv[@]}" venv --quiet --python "$venv/bin/python" "$work/core"
"${uv[@]}" pip install --quiet --python "$work/core/bin/python" -c "$work/constraints.txt" "$wheel"
"$work/core/bin/python" - <<'PY'
import importlib.util, sys
heavy = ["numpy", "scipy", "plotly", "dask", "distributed", "pandas", "pyarrow",
         "fastapi", "starlette", "uvicorn", "psycopg"]
present = [name for name in heavy if importlib.util.find_spec(name) is not None]
if present:
    sys.exit(f"the core install brought extras' packages: {', '.join(present)}")
PY

step "auditing the shipped published agreement with the core"
cp -r tests/fixtures/audit "$work/audit"
(
  cd "$work/audit"
  cvid=$work/core/bin/cvid
  "$cvid" --version
  "$cvid" log verify-tiles tiles --vkey "$(cat vkey)" | tee tiles.txt
  grep -q "verified: 271 entries" tiles.txt
  "$cvid" status agreement --at 2027-09-15 --json >state.json
  "$work/core/bin/python" -c "import json; s = json.load(open('state.json')); assert s['agreement'] == 'dprk-phased', s"
  "$cvid" status agreement --at 2027-09-15 >status.txt
  head -n 1 status.txt
  "$cvid" report agreement --out report.html --at 2027-09-15
  grep -q "dprk-phased" report.html
  "$cvid" game solve --d 1 --b 4 --beta 0.2 | tee game.txt
  grep -q "smallest deterring inspection probability" game.txt
  "$cvid" game plan --cells 141 --hidden 5 --inspections 30 --d 1 --b 4 --json >plan.json
  "$work/core/bin/python" -c "import json; assert json.load(open('plan.json'))['deters'] is True"
  if "$cvid" sim run dprk-phased --scenario dprk-phased-hide --runs 5 2>sim.err; then
    fail "cvid sim run worked without the sim extra"
  fi
  grep -q "pip install 'cvid\[sim\]'" sim.err
)

if [ "${CHECK_INSTALL_ALL:-1}" = 1 ]; then
  step "installing cvid[all]"
  "${uv[@]}" venv --quiet --python "$venv/bin/python" "$work/all"
  "${uv[@]}" pip install --quiet --python "$work/all/bin/python" -c "$work/constraints.txt" "$wheel[all]"
  step "running the demo walkthrough with cvid[all]"
  mkdir "$work/demo"
  (cd "$work/demo" && "$work/all/bin/python" -m cvid.demo --no-serve >demo.txt 2>&1) ||
    { cat "$work/demo/demo.txt"; fail "the demo walkthrough with cvid[all]"; }
  tail -n 3 "$work/demo/demo.txt"
fi
step "done"
