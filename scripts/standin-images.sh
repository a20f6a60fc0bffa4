#!/usr/bin/env bash
# Builds the local stand-in images nbmsp's tests deploy instead of NetBird's (no registry here):
#   nbmsp-standin/{netbird-server,dashboard,management,signal,relay,reverse-proxy}:latest
# from standin/*.rs, a std-only program compiled as a static binary into FROM-scratch images;
# nbmsp-standin/busybox:latest, the helper image tcp:// hosts use (`images.helper`, upstream
# `busybox`), from Debian's static busybox: the same program, its applets as symlinks; and
# nbmsp-standin/nginx:latest, the edge's image (`images.edge`), Debian's nginx with its stream module.
# Idempotent and safe to run concurrently: images already built from the same source are kept.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/standin/main.rs"
out="${CARGO_TARGET_DIR:-$root/target}/standin"
mkdir -p "$out"

exec 9>"$out/.lock"
flock 9

hash="$(cat "$root"/standin/*.rs "$0" | sha256sum | cut -c1-16)"
declare -A roles=([netbird-server]=server [dashboard]=dashboard [management]=management [signal]=signal [relay]=relay [reverse-proxy]=reverse-proxy)

# Only the tcp:// host tests need the helper: without a static busybox it is left out, said once.
extra=()
if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
  extra=(busybox)
  hash="$hash-$(sha256sum /bin/busybox | cut -c1-8)"
else
  echo "standin-images: no static /bin/busybox (apt-get install busybox-static): nbmsp-standin/busybox not built" >&2
fi
# The edge runs nginx with its stream module (`images.edge`, upstream `nginx`): this machine's
# Debian nginx and its libraries, as they are, in a scratch image.
stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
if [ -x /usr/sbin/nginx ] && [ -e "$stream_module" ]; then
  extra+=(nginx)
  hash="$hash-$(cat /usr/sbin/nginx "$stream_module" | sha256sum | cut -c1-8)"
else
  echo "standin-images: no nginx with $stream_module (apt-get install nginx-light libnginx-mod-stream): nbmsp-standin/nginx not built" >&2
fi

uptodate=1
for image in "${!roles[@]}" "${extra[@]}"; do
  have="$(docker image inspect --format '{{ index .Config.Labels "nbmsp.standin.hash" }}' "nbmsp-standin/$image:latest" 2>/dev/null || true)"
  [ "$have" = "$hash" ] || uptodate=0
done
if [ "$uptodate" = 1 ]; then
  echo "standin-images: up to date ($hash)"
  exit 0
fi

echo "standin-images: compiling $src"
rustc --edition 2021 -O -C target-feature=+crt-static -C strip=symbols "$src" -o "$out/standin"
for image in "${!roles[@]}"; do
  role="${roles[$image]}"
  # CMD as upstream's image has it (combined/Dockerfile passes the config path).
  cmd='[]'
  [ "$role" = server ] && cmd='["--config", "/etc/netbird/config.yaml"]'
  printf 'FROM scratch\nCOPY standin /standin\nLABEL nbmsp.standin.hash="%s"\nENTRYPOINT ["/standin", "%s"]\nCMD %s\n' "$hash" "$role" "$cmd" \
    | docker build -q -t "nbmsp-standin/$image:latest" -f - "$out" >/dev/null 2>"$out/build.err" \
    || { cat "$out/build.err" >&2; exit 1; }
  echo "standin-images: built nbmsp-standin/$image:latest"
done
if [[ " ${extra[*]} " == *" nginx "* ]]; then
  root_dir="$out/nginx"
  rm -rf "$root_dir" && mkdir -p "$root_dir/usr/sbin" "$root_dir/etc" "$root_dir/tmp" "$root_dir/run" \
    "$root_dir/var/log/nginx" "$root_dir/var/lib/nginx" "$root_dir/etc/nbmsp-edge"
  chmod 1777 "$root_dir/tmp"
  cp /usr/sbin/nginx "$root_dir/usr/sbin/nginx"
  mkdir -p "$root_dir$(dirname "$stream_module")" && cp "$stream_module" "$root_dir$stream_module"
  for lib in $( (ldd /usr/sbin/nginx; ldd "$stream_module") | awk '/=>/ {print $3} /^\t\// {print $1}' | sort -u); do
    mkdir -p "$root_dir$(dirname "$lib")" && cp -L "$lib" "$root_dir$lib"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root_dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root_dir/etc/group"
  printf 'FROM scratch\nCOPY . /\nLABEL nbmsp.standin.hash="%s"\nSTOPSIGNAL SIGQUIT\nENTRYPOINT []\nCMD ["nginx", "-g", "daemon off;"]\n' "$hash" \
    | docker build -q -t "nbmsp-standin/nginx:latest" -f - "$root_dir" >/dev/null 2>"$out/build.err" \
    || { cat "$out/build.err" >&2; exit 1; }
  echo "standin-images: built nbmsp-standin/nginx:latest"
fi
[[ " ${extra[*]} " == *" busybox "* ]] || exit 0
rm -rf "$out/busybox" && mkdir -p "$out/busybox/bin"
cp /bin/busybox "$out/busybox/bin/busybox"
for applet in sh tar mkdir chmod rm ls df dirname printf nc cat test [ echo sleep; do
  ln -s busybox "$out/busybox/bin/$applet"
done
printf 'FROM scratch\nCOPY bin /bin\nLABEL nbmsp.standin.hash="%s"\nCMD ["sh"]\n' "$hash" \
  | docker build -q -t "nbmsp-standin/busybox:latest" -f - "$out/busybox" >/dev/null 2>"$out/build.err" \
  || { cat "$out/build.err" >&2; exit 1; }
echo "standin-images: built nbmsp-standin/busybox:latest"
