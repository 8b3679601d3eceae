# help.sh: sourced by man.sh and completion.sh: what they read from the built binary's --help (the
# command table and each command's usage text), so both are generated from the text users see and
# cannot drift from it. Defines functions only; runs nothing.

# The command names, in `oilcast --help` order (its "Commands:" block: two spaces, name, summary).
oilcast_commands() {
  "$1" --help | sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p'
}

# Every --option a command's usage text names (its own and the common ones), once each, sorted.
oilcast_command_options() {
  "$1" "$2" --help | grep -oE '(^|[][ ,|(])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z0-9-]+' | sort -u
}
