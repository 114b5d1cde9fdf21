# Cross toolchain for armhf (arm-linux-gnueabihf) using Debian multiarch.
#   scripts/install-cross-deps.sh armhf
#   cmake --preset armhf     (or -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)

set(BRIDGE_TRIPLET arm-linux-gnueabihf)
set(CMAKE_C_COMPILER   /usr/bin/${BRIDGE_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER /usr/bin/${BRIDGE_TRIPLET}-g++)
set(CMAKE_STRIP        /usr/bin/${BRIDGE_TRIPLET}-strip CACHE FILEPATH "strip for the target")
set(CMAKE_LIBRARY_ARCHITECTURE ${BRIDGE_TRIPLET})

# Multiarch puts target libraries in /usr/lib/<triplet> and arch-independent
# headers and CMake configs in /usr; the cross toolchain's own sysroot bits
# live in /usr/<triplet>.
set(CMAKE_FIND_ROOT_PATH "/usr/${BRIDGE_TRIPLET};/usr")
# protoc and grpc_cpp_plugin must be the host's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Without this, gRPC's config looks up re2 with the host pkg-config and links
# the x86_64 library. Shipped by pkgconf:armhf.
set(PKG_CONFIG_EXECUTABLE /usr/bin/${BRIDGE_TRIPLET}-pkg-config CACHE FILEPATH "pkg-config for the target")

# qemu-user finds the multiarch loader and libraries (libc6:armhf) by itself.
# Never add "-L /usr/${BRIDGE_TRIPLET}": mixing the cross toolchain's loader
# with libc6:armhf hangs gRPC at 100 % CPU.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-arm)
