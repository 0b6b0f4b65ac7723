#!/usr/bin/env bash
# Checks that the CLI's documentation keeps up with its code (STYLE.md, "Layout
# of folders and files"): every src/cli/cmd_<name>.c has a page
# docs/cli/dsuit-<name>.md, every long option in each of the file's
# getopt_long tables appears on that page as `--option`, and each table is
# sorted by name. A command file without any option table fails, since
# every command has at least --help.
set -u

SRC=${DSUIT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [[ ! -d $SRC/src/cli || ! -d $SRC/docs ]]; then
    echo "test_docs: no src/cli or docs under '$SRC' (set DSUIT_SOURCE_DIR)" >&2
    exit 1
fi

passed=0
failed=0

pass() {
    passed=$((passed + 1))
    echo "ok   $*"
}

fail() {
    failed=$((failed + 1))
    echo "FAIL $*"
}

# Print "table-number option-name" for every entry of every
# `struct option ...[] = { ... };` table in a C file, in file order.
option_tables() {
    awk '
        /struct option[^;]*\[\][ \t]*=/ { in_table = 1; n++; next }
        in_table && /^[ \t]*};/ { in_table = 0; next }
        in_table {
            line = $0
            while (match(line, /\{[ \t]*"[^"]+"/)) {
                name = substr(line, RSTART, RLENGTH)
                sub(/^\{[ \t]*"/, "", name)
                sub(/"$/, "", name)
                print n, name
                line = substr(line, RSTART + RLENGTH)
            }
        }
    ' "$1"
}

check_command() {
    local src=$1 name page opts table sorted
    name=$(basename "$src" .c)
    name=${name#cmd_}
    page=$SRC/docs/cli/dsuit-$name.md

    if [[ ! -f $page ]]; then
        fail "$name: page docs/cli/dsuit-$name.md is missing"
        return
    fi
    pass "$name: page docs/cli/dsuit-$name.md exists"

    opts=$(option_tables "$src")
    if [[ -z $opts ]]; then
        fail "$name: no getopt_long option table found in $(basename "$src")"
        return
    fi

    local opt
    while read -r table opt; do
        # As code (`--out NAME`), and not as a prefix of a longer option.
        if grep -qE -- "\`--$opt([^a-z0-9-]|\$)" "$page"; then
            pass "$name: --$opt is on the page"
        else
            fail "$name: --$opt (table $table) is not on docs/cli/dsuit-$name.md"
        fi
    done <<<"$opts"

    for table in $(cut -d' ' -f1 <<<"$opts" | sort -u); do
        local names
        names=$(awk -v t="$table" '$1 == t {print $2}' <<<"$opts")
        sorted=$(LC_ALL=C sort <<<"$names")
        if [[ $names == "$sorted" ]]; then
            pass "$name: option table $table is sorted"
        else
            fail "$name: option table $table is not sorted: $(tr '\n' ' ' <<<"$names")"
        fi
    done
}

shopt -s nullglob
commands=("$SRC"/src/cli/cmd_*.c)
if [[ ${#commands[@]} -eq 0 ]]; then
    fail "no src/cli/cmd_*.c files found under $SRC"
fi
for src in "${commands[@]}"; do
    check_command "$src"
done

if [[ -f $SRC/docs/EXIT-CODES.md ]]; then
    pass "docs/EXIT-CODES.md exists"
else
    fail "docs/EXIT-CODES.md is missing"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
