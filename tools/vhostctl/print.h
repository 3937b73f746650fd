/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One print layer for text and JSON: every output goes through these calls,
 * so both forms always carry the same fields.
 */
#ifndef VHOSTCTL_CLI_PRINT_H
#define VHOSTCTL_CLI_PRINT_H

#include <stdbool.h>
#include <stdint.h>

void print_init(bool json, bool pretty);
void print_finish(void);
/* Whether the output is JSON, for layouts that differ (text repeats a label,
 * JSON groups records). */
bool print_is_json(void);
/* Objects and arrays: the name is ignored inside arrays and in text. */
void print_open_object(const char *name);
void print_close_object(void);
void print_open_array(const char *name);
void print_close_array(void);
/* Fields: text shows "fmt" (NULL: "name value"), JSON "name": value. */
void print_string(const char *name, const char *text_fmt, const char *value);
void print_u64(const char *name, const char *text_fmt, uint64_t value);
void print_hex(const char *name, const char *text_fmt, uint64_t value);
void print_bool(const char *name, const char *text_fmt, bool value);
/* Text only: a record's label. */
void print_text(const char *fmt, const char *value);
/* Text only: a newline between records. */
void print_nl(void);

#endif
