/* RISC-V C start-up glue: board init, main, exit status; one handler for every trap. */
#include <stdint.h>

#include "ltc2c_board.h"

extern int main(void);
void ltc2c_riscv_start(void);
void ltc2c_fault_handler(void);

void ltc2c_riscv_start(void)
{
    ltc2c_board_init();
    ltc2c_board_exit(main());
}

void ltc2c_fault_handler(void)
{
    static const char message[] = "LTC2C FAULT\n";
    ltc2c_board_write(message, (uint32_t)(sizeof message - 1u));
    ltc2c_board_exit(99);
}
