#include "fault.h"

int fault_try_write32(volatile uint32_t *addr, uint32_t value, struct fault_info *out)
{
	return fault_try_access32(addr, &value, FAULT_WRITE, out);
}
