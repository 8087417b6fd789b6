#!/bin/sh
# Render the ctid Asterisk configuration.
#
#   render.sh SRC_DIR ASTDIR
#
# Copies SRC_DIR/*.conf to ASTDIR/etc/, replacing every {{NAME}} with the
# environment variable NAME, or with the default from SRC_DIR/placeholders.env.
# ASTDIR itself is taken from the second argument. Creates ASTDIR/{etc,run,log,
# spool,lib,cache}. Fails if a placeholder has no value or is left over.
# POSIX sh + awk (works with busybox).
set -eu
src=${1:?usage: render.sh SRC_DIR ASTDIR}
ASTDIR=${2:?usage: render.sh SRC_DIR ASTDIR}
export ASTDIR

names=""
# read_placeholders FILE: take each NAME from the environment, else its default.
read_placeholders() {
	while IFS= read -r line; do
		case $line in ''|'#'*) continue ;; esac
		name=${line%%=*}
		def=${line#*=}
		eval "cur=\${$name-}"
		if [ -z "$cur" ]; then
			[ -n "$def" ] || { echo "render.sh: $name is required" >&2; exit 1; }
			eval "$name=\$def"
		fi
		export "$name"
		names="$names $name"
	done < "$1"
}
read_placeholders "$src/placeholders.env"
# PJSIP_REALTIME=yes: phones come from ctid's Postgres (realtime/*.conf,
# with its own placeholders: PGSQL_HOST, PGSQL_PORT, PGSQL_DB, PGSQL_USER,
# PGSQL_PASSWORD); those files are rendered after, and over, the others.
dirs="$src"
if [ "${PJSIP_REALTIME:-no}" = yes ]; then
	read_placeholders "$src/realtime/placeholders.env"
	dirs="$src $src/realtime"
fi

mkdir -p "$ASTDIR/etc" "$ASTDIR/run" "$ASTDIR/log" "$ASTDIR/spool/recording" "$ASTDIR/spool/monitor" "$ASTDIR/lib/keys" "$ASTDIR/cache"
for f in $(for d in $dirs; do ls "$d"/*.conf; done); do
	out="$ASTDIR/etc/$(basename "$f")"
	NAMES="$names" awk '
	BEGIN { n = split(ENVIRON["NAMES"], k, " ") }
	{
		line = $0
		for (i = 1; i <= n; i++) {
			p = "{{" k[i] "}}"; v = ENVIRON[k[i]]; res = ""
			while ((j = index(line, p)) > 0) {
				res = res substr(line, 1, j - 1) v
				line = substr(line, j + length(p))
			}
			line = res line
		}
		print line
	}' "$f" > "$out"
	if grep -n '{{[A-Z_]*}}' "$out" >&2; then
		echo "render.sh: unknown placeholder left in $out" >&2
		exit 1
	fi
done
