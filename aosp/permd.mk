# permd product makefile. In a device or product makefile add:
#
#   $(call inherit-product, vendor/permd/aosp/permd.mk)
#
# The repository is expected at vendor/permd; elsewhere, set PERMD_DIR
# before the inherit-product line. The device binaries must be built first
# with `make android` in this repository (they are prebuilts: Soong does not
# build Go for the device).

PERMD_DIR ?= vendor/permd

# permd pulls in its default config (prebuilt_etc modules, `required` in
# Android.bp); permctl is the adb shell CLI.
PRODUCT_PACKAGES += \
    permd \
    permctl

# Build-time preinstall vetting is a product choice: list your preinstalled
# APKs in a genrule that uses permd_preinstall_vetting_defaults (see
# Android.bp and docs/aosp.md) and add its report module here, e.g.
#   PRODUCT_PACKAGES += oem_preinstall_vetting.txt

# All of permd's policy is private to system_ext: no vendor policy refers to
# its types, so nothing goes into SYSTEM_EXT_PUBLIC_SEPOLICY_DIRS (public
# types become versioned API that vendors could start to depend on).
SYSTEM_EXT_PRIVATE_SEPOLICY_DIRS += $(PERMD_DIR)/sepolicy

# The integration bridge (docs/android-integration.md): feeds permd from
# AppOps/ActivityManager and enforces its grants without framework patches.
PRODUCT_PACKAGES += PermdBridge
