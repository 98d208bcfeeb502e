import Foundation
import TwofoldCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether the server can listen where `TWOFOLD_LISTEN` says: the host resolves, and the port
/// can be bound. Checked before `twofold serve` creates or opens anything, so that a typo costs
/// nothing; the server's own bind reports the same failures the same way (another process may
/// take the port in between).
enum ListenAddressCheck {
    /// Resolves the host and binds a socket to the address the server would listen on (with
    /// `SO_REUSEADDR`, as the server does), then closes it.
    /// - Throws: `configuration` naming `TWOFOLD_LISTEN` and what is wrong.
    static func check(_ listen: TwofoldConfiguration.ListenAddress) throws(TwofoldError) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(listen.host, String(listen.port), &hints, &results)
        guard status == 0, let first = results else {
            throw unresolvable(listen, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(results) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else {
            throw TwofoldError(.configuration, "TWOFOLD_LISTEN=\(listen): cannot open a socket: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var on: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw bindFailure(listen, errno: errno)
        }
    }

    /// The host does not resolve.
    static func unresolvable(_ listen: TwofoldConfiguration.ListenAddress, reason: String) -> TwofoldError {
        TwofoldError(.configuration, "TWOFOLD_LISTEN=\(listen): the host \"\(listen.host)\" does not resolve (\(reason)): use an address of this machine such as 127.0.0.1 or 0.0.0.0, or a name that resolves to one")
    }

    /// The address cannot be bound, by the system's reason `errno`.
    static func bindFailure(_ listen: TwofoldConfiguration.ListenAddress, errno code: Int32) -> TwofoldError {
        let message = switch code {
        case EADDRINUSE:
            "TWOFOLD_LISTEN=\(listen): port \(listen.port) is already in use by another process (perhaps another twofold serve): stop it, or set TWOFOLD_LISTEN to a free port"
        case EACCES:
            "TWOFOLD_LISTEN=\(listen): this user may not listen on port \(listen.port) (ports below 1024 need CAP_NET_BIND_SERVICE): use a port from 1024 up, or grant the capability"
        case EADDRNOTAVAIL:
            "TWOFOLD_LISTEN=\(listen): \(listen.host) is not an address of this machine: use one of its addresses, 127.0.0.1 or 0.0.0.0"
        default:
            "TWOFOLD_LISTEN=\(listen): cannot listen there: \(String(cString: strerror(code)))"
        }
        return TwofoldError(.configuration, message)
    }
}
