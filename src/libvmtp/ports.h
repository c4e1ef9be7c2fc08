/*
 * ports.h - the ports the measurement tools' servers listen on (SPEC §6):
 * vmtp-run starts them there, and vmtp-provision's security group opens
 * exactly these, so the two must come from one place.
 */
#ifndef VMTP_PORTS_H
#define VMTP_PORTS_H

#define VMTP_NUTTCP_PORT 5100      /* nuttcp control (TCP) */
#define VMTP_NUTTCP_DATA_PORT 5101 /* nuttcp data (TCP and UDP) */
#define VMTP_IPERF3_PORT 5201      /* iperf3 control and data */

#endif
