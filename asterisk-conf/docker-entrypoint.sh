#!/bin/sh
# Container start: render the templates from /etc/ctid-asterisk into
# $ASTDIR (default /var/lib/ctid-asterisk) using the environment, then run
# the command (default: asterisk in the foreground).
set -eu
: "${ASTDIR:=/var/lib/ctid-asterisk}"
/etc/ctid-asterisk/render.sh /etc/ctid-asterisk "$ASTDIR"
chown -R asterisk:asterisk "$ASTDIR"
if [ "${1:-}" = "asterisk" ]; then
	shift
	exec /usr/sbin/asterisk -C "$ASTDIR/etc/asterisk.conf" -f -n -U asterisk -G asterisk "$@"
fi
exec "$@"
