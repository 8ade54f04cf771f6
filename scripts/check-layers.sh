#!/bin/sh
# The stages of user/ in the order a record flows (README, "How it works"),
# after common/, which they all may use: a file may include headers of its own
# stage and of the stages before it, never of a later stage nor of user/
# itself, which wires them all.
# Prints each include that breaks the order and exits 1 if there is one.
set -eu
cd "$(dirname "$0")/.."

STAGES="common target attach collect symbols verdict report diff"

rank() {
	i=0
	for s in $STAGES; do
		[ "$s" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo top
}

status=0
for stage in $STAGES; do
	mine=$(rank "$stage")
	for file in user/"$stage"/*.[ch]; do
		[ -e "$file" ] || continue
		# Every quoted include naming a folder of user/, or a header of user/ itself.
		grep -o '^#include "[^"]*"' "$file" | sed 's/^#include "\(.*\)"$/\1/' |
		while read -r header; do
			case "$header" in
			*/*) theirs=$(rank "${header%%/*}") ;;
			*) [ -e "user/$stage/$header" ] && continue
			   [ -e "user/$header" ] && theirs=top || continue ;;
			esac
			if [ "$theirs" = top ] || [ "$theirs" -gt "$mine" ]; then
				echo "$file includes $header: a later stage (order: $STAGES)"
				echo broken > "${TMPDIR:-/tmp}/check-layers.$$"
			fi
		done
	done
done
if [ -e "${TMPDIR:-/tmp}/check-layers.$$" ]; then
	rm -f "${TMPDIR:-/tmp}/check-layers.$$"
	status=1
fi
exit $status
