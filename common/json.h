/* What cJSON lacks: attaching an item to an object without ever leaking
 * it. cJSON_AddItemToObject leaves the item to its caller when it fails
 * (out of memory); json_attach frees it then. The key is not copied: a
 * string that outlives the object (a literal). */
#ifndef COWLAB_JSON_H
#define COWLAB_JSON_H

#include <cjson/cJSON.h>

/* Returns the item, or NULL when it is NULL or could not be attached. */
static inline cJSON *json_attach(cJSON *o, const char *key, cJSON *item)
{
	if (item != NULL && (o == NULL || !cJSON_AddItemToObjectCS(o, key, item))) {
		cJSON_Delete(item); /* nobody would own it */
		return NULL;
	}
	return item;
}

#endif
