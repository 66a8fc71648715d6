# permd product makefile. In a device or product makefile add:
#
#   $(call inherit-product, vendor/permd/aosp/permd.mk)
#
# (with the path where this repository sits in the tree). The device
# binaries must be built first with `make android` in this repository
# (they are prebuilts: Soong does not build Go for the device).

PERMD_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))/..

PRODUCT_PACKAGES += \
    permd \
    permctl \
    permd.json \
    permd_rules.json \
    permd_grants.json \
    permd_indicator.json \
    permd_process.json \
    permd_preinstall_registry

# Build-time preinstall vetting: fail the image build when a preinstalled
# APK of this product fails Art. 29 checks. See docs/aosp.md.
PRODUCT_PACKAGES += permd_preinstall_vetting

# All of permd's policy is private to system_ext: no vendor policy refers to
# its types, so nothing goes into SYSTEM_EXT_PUBLIC_SEPOLICY_DIRS (public
# types become versioned API that vendors could start to depend on).
SYSTEM_EXT_PRIVATE_SEPOLICY_DIRS += $(PERMD_DIR)/sepolicy
