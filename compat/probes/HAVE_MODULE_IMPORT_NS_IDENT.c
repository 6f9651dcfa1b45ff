// SPDX-License-Identifier: GPL-2.0
/* MODULE_IMPORT_NS() of a bare name; Linux 6.13+ take a string literal. */
#include <linux/module.h>

MODULE_IMPORT_NS(DMA_BUF);
