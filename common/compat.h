/* The one place for compiler-specific annotations; every other file is
 * plain C11 (MSVC accepts it as well as gcc and clang). */
#ifndef COWLAB_COMPAT_H
#define COWLAB_COMPAT_H

/* printf-style format checking of a function's arguments. */
#if defined(__MINGW_PRINTF_FORMAT)
#define COWLAB_PRINTF(fmt, args) __attribute__((format(__MINGW_PRINTF_FORMAT, fmt, args)))
#elif defined(__GNUC__) || defined(__clang__)
#define COWLAB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define COWLAB_PRINTF(fmt, args)
#endif

/* The course's exercise (docs/course.md): globals placed in the image.
 * COWLAB_IMAGE_DATA: the ordinary initialized data (.data), copy-on-write
 * image pages, even for a global that starts at zero (which compilers put
 * in .bss). COWLAB_IMAGE_SHARED: a section "shared" that every running
 * instance of the executable shares (characteristics 0xD0000040); it must
 * be initialized data. MSVC names the section with data_seg pragmas around
 * the definition, BEGIN and END; mingw-w64 gcc with an attribute. ELF has
 * no shared-section flag: there the "shared" global is ordinary .data. */
#if defined(_MSC_VER) && !defined(__clang__)
/* Written for MSVC as the course does it, but not built here. */
#define COWLAB_IMAGE_DATA
#define COWLAB_IMAGE_SHARED_BEGIN __pragma(data_seg("shared"))
#define COWLAB_IMAGE_SHARED
#define COWLAB_IMAGE_SHARED_END \
	__pragma(data_seg()) __pragma(comment(linker, "/section:shared,RWS"))
#elif defined(_WIN32)
#define COWLAB_IMAGE_DATA __attribute__((section(".data")))
#define COWLAB_IMAGE_SHARED_BEGIN
#define COWLAB_IMAGE_SHARED __attribute__((section("shared"), shared))
#define COWLAB_IMAGE_SHARED_END
#else
#define COWLAB_IMAGE_DATA __attribute__((section(".data")))
#define COWLAB_IMAGE_SHARED_BEGIN
#define COWLAB_IMAGE_SHARED __attribute__((section(".data")))
#define COWLAB_IMAGE_SHARED_END
#endif

#endif
