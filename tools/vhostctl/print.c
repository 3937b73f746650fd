// SPDX-License-Identifier: GPL-2.0-only
/*
 * Text and JSON output from the same calls, iproute2 style: text is
 * "key value" pairs on one line per record; JSON nests objects and arrays,
 * with snake_case keys.
 */
#include <stdio.h>
#include <string.h>

#include "print.h"

/* Text formats come from the callers, as iproute2's print_*() take them. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

#define MAX_DEPTH 16

static bool json, pretty;
static int depth;
static bool first[MAX_DEPTH];	/* no member printed yet at this depth */
static bool in_array[MAX_DEPTH];

void print_init(bool j, bool p)
{
	json = j;
	pretty = p;
	depth = 0;
	first[0] = true;
	in_array[0] = false;
	if (json) {
		putchar('{');
		depth = 1;
		first[1] = true;
		in_array[1] = false;
	}
}

bool print_is_json(void)
{
	return json;
}

void print_finish(void)
{
	if (json) {
		if (pretty)
			putchar('\n');
		puts("}");
	}
	fflush(stdout);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_key(const char *name)
{
	if (!first[depth])
		putchar(',');
	first[depth] = false;
	if (pretty) {
		putchar('\n');
		for (int i = 0; i < depth; i++)
			fputs("    ", stdout);
	}
	if (!in_array[depth] && name) {
		json_string(name);
		fputs(pretty ? ": " : ":", stdout);
	}
}

static void push(bool array)
{
	if (depth + 1 < MAX_DEPTH)
		depth++;
	first[depth] = true;
	in_array[depth] = array;
}

static void pop(char close)
{
	bool empty = first[depth];

	if (depth > 0)
		depth--;
	if (pretty && !empty) {
		putchar('\n');
		for (int i = 0; i < depth; i++)
			fputs("    ", stdout);
	}
	putchar(close);
}

void print_open_object(const char *name)
{
	if (!json)
		return;
	json_key(name);
	putchar('{');
	push(false);
}

void print_close_object(void)
{
	if (json)
		pop('}');
}

void print_open_array(const char *name)
{
	if (json) {
		json_key(name);
		putchar('[');
		push(true);
	} else if (name) {
		printf("%s ", name);
	}
}

void print_close_array(void)
{
	if (json)
		pop(']');
}

void print_string(const char *name, const char *fmt, const char *value)
{
	if (json) {
		json_key(name);
		json_string(value);
	} else if (fmt) {
		printf(fmt, value);
	} else {
		printf("%s %s ", name, value);
	}
}

void print_u64(const char *name, const char *fmt, uint64_t value)
{
	if (json) {
		json_key(name);
		printf("%llu", (unsigned long long)value);
	} else if (fmt) {
		printf(fmt, (unsigned long long)value);
	} else {
		printf("%s %llu ", name, (unsigned long long)value);
	}
}

void print_hex(const char *name, const char *fmt, uint64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)value);
	if (json) {
		json_key(name);
		json_string(buf);
	} else if (fmt) {
		printf(fmt, buf);
	} else {
		printf("%s %s ", name, buf);
	}
}

void print_bool(const char *name, const char *fmt, bool value)
{
	if (json) {
		json_key(name);
		fputs(value ? "true" : "false", stdout);
	} else if (fmt) {
		printf(fmt, value ? "true" : "false");
	} else {
		printf("%s %s ", name, value ? "true" : "false");
	}
}

void print_nl(void)
{
	if (!json)
		putchar('\n');
}

void print_text(const char *fmt, const char *value)
{
	if (!json)
		printf(fmt, value);
}
