/* Linux's interfaces newer than Debian 12's headers (6.1), declared as the
 * kernel declares them, for the running kernel to answer: PAGEMAP_SCAN
 * (6.7) and PROCMAP_QUERY (6.11). Declarations only, shared by the backend
 * and by bench/floor-peer, which uses none of cowlab's code. */
#ifndef COWLAB_LINUX_UAPI_H
#define COWLAB_LINUX_UAPI_H

#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/fs.h>

#ifndef PAGEMAP_SCAN
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

/* Under a name of its own, so that it is the same with any headers. */
struct cowlab_procmap_query {
	uint64_t size, query_flags, query_addr;
	uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define COWLAB_PROCMAP_QUERY _IOWR('f', 17, struct cowlab_procmap_query)

#endif
