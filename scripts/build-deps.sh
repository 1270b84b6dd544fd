# Sourced by scripts/serve.sh and scripts/test.sh: adds to the array `need_apt`
# the Debian packages the build itself needs when they are missing, and defines
# `apt_install`, which installs what `need_apt` holds.
#
# SAML single sign-on (crate saml-sp over samael) links libxmlsec1 and libxml2:
# the build needs their headers, pkg-config and libclang (bindgen).
for pkg in libxmlsec1-dev libxml2-dev libclang-dev; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    need_apt+=("$pkg")
  fi
done
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)

apt_install() {
  if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing ${need_apt[*]} (apt-get)"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
}
