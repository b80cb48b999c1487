# Sourced by the VM scripts (run.sh, kernel_check.sh, testmod.sh): installs
# the Debian packages a script needs, and a static busybox (the VM's
# userland).
#
#   vm_packages CHECK:PACKAGE...
#
# CHECK is a command that the package provides, or `pc:MODULE` for a
# pkg-config module (`pc:libelf:libelf-dev`). Whatever is missing is
# installed with one `apt-get update` and one `apt-get install`, said on
# stderr; a failure, or a busybox that is still dynamically linked, ends
# the script with a message. Needs root (the scripts check it first).

# Whether CHECK (a command, or `pc` and a module) is present.
vm_present() { # CHECK [MODULE]
    case $1 in
        pc) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$2" ;;
        *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

# Whether the ELF file $1 asks for a dynamic loader. (No "grep -q" at the
# end of a pipe: under pipefail the writer's SIGPIPE would fail it.)
vm_is_dynamic() { readelf -l "$1" 2>/dev/null | grep interpreter >/dev/null; }

vm_packages() { # CHECK:PACKAGE...
    local need check arg package missing=()
    for need in "$@"; do
        IFS=: read -r check arg package <<<"$need"
        if [[ -z $package ]]; then package=$arg arg=; fi
        vm_present "$check" "$arg" || missing+=("$package")
    done
    # Without readelf, busybox cannot be judged: install the static one.
    if [[ ! -x /bin/busybox ]] || ! command -v readelf >/dev/null 2>&1 \
        || vm_is_dynamic /bin/busybox; then
        missing+=(busybox-static)
    fi
    if ((${#missing[@]})); then
        echo "apt-get install ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
            echo "apt-get install ${missing[*]} failed" >&2
            exit 1
        }
    fi
    if vm_is_dynamic /bin/busybox; then
        echo "/bin/busybox is not statically linked (the VM's userland needs it)" >&2
        exit 1
    fi
}
