/*
 * ltc2c portability macros, shared by every generated model. C99, no dependencies.
 */
#ifndef LTC2C_PORT_H
#define LTC2C_PORT_H

/* Qualifier for constant tables: they belong in flash. A platform that needs special flash
   access (e.g. AVR PROGMEM) defines LTC2C_CONST before including generated code. */
#ifndef LTC2C_CONST
#define LTC2C_CONST const
#endif

#endif /* LTC2C_PORT_H */
