# shellcheck shell=bash
# Sourced by the native action's steps (shell: bash: Linux, macOS, and Git Bash on
# Windows), with the step to run ("main", or "invalidate" for the companion): find a
# Python 3.11 or later as each hosted runner provides one (asked with -E -S: fast, and
# any Python can answer), then hand over to bootstrap.py with it. -I: no PYTHON*
# variables, user site or script directory on sys.path; -S: no site-packages, so the
# job's packages cannot reach in; -X utf8: the log and the file commands in UTF-8 on
# Windows too, whatever its code page; -u: the log in order.
found=""
for python in python3 python "py -3"; do
  # shellcheck disable=SC2086 # "py -3" is a command and its argument
  if version=$($python -E -S -c 'import sys; print("%d.%d" % sys.version_info[:2]); sys.exit(sys.version_info < (3, 11))' 2>/dev/null); then
    # shellcheck disable=SC2086
    exec $python -I -S -X utf8 -u "${BASH_SOURCE[0]%/*}/bootstrap.py" "$1"
  fi
  [[ -n $version ]] && found+="${found:+, }$python is $version"
done
echo "::error::No Python 3.11 or later on this runner (${found:-no python3, python or py -3}): add actions/setup-python (python-version: \"3.13\") as a step before this one."
exit 1
