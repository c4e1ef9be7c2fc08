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
/* nuttcp servers a host runs side by side, so that a UDP run's end (nuttcp
 * waits 2 s after the last datagram) overlaps the next measurement: slot K
 * listens on VMTP_NUTTCP_PORT + 2K and sends or receives on
 * VMTP_NUTTCP_DATA_PORT + 2K */
#define VMTP_NUTTCP_SLOTS 3
#define VMTP_NUTTCP_SLOT_PORT(k) (VMTP_NUTTCP_PORT + 2 * (k))
#define VMTP_NUTTCP_SLOT_DATA_PORT(k) (VMTP_NUTTCP_DATA_PORT + 2 * (k))
#define VMTP_NUTTCP_LAST_PORT VMTP_NUTTCP_SLOT_DATA_PORT(VMTP_NUTTCP_SLOTS - 1)

#endif
