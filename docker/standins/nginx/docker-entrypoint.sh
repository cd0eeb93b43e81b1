#!/bin/sh
# The official image's start steps that the project relies on, re-done with Debian's envsubst:
# NGINX_ENTRYPOINT_LOCAL_RESOLVERS=1 exports NGINX_LOCAL_RESOLVERS (the nameservers of
# /etc/resolv.conf), then each /etc/nginx/templates/*.template is rendered into /etc/nginx/conf.d/
# with only the variables that are defined substituted (nginx's own $vars stay as they are).
set -eu
if [ -n "${NGINX_ENTRYPOINT_LOCAL_RESOLVERS:-}" ]; then
  NGINX_LOCAL_RESOLVERS=$(awk 'BEGIN{ORS=" "} $1=="nameserver" {if ($2 ~ ":") print "["$2"]"; else print $2}' /etc/resolv.conf)
  NGINX_LOCAL_RESOLVERS="${NGINX_LOCAL_RESOLVERS% }"
  export NGINX_LOCAL_RESOLVERS
fi
defined=$(printf '${%s} ' $(env | cut -d= -f1))
for template in /etc/nginx/templates/*.template; do
  [ -f "$template" ] || continue
  out="/etc/nginx/conf.d/$(basename "$template" .template)"
  envsubst "$defined" <"$template" >"$out"
  echo "docker-entrypoint: rendered $template to $out"
done
exec "$@"
