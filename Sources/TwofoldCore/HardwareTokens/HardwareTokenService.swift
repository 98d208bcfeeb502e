import Crypto
import Foundation
import TwofoldOTP
import TwofoldTokenFiles

/// The formats ``HardwareTokenService/importTokens(_:file:format:key:actor:)`` reads.
public enum TokenFileFormat: String, Sendable, CaseIterable {
    /// RFC 6030 Portable Symmetric Key Container: plain, pre-shared key or password encrypted.
    case pskc
    /// `serial, secret, type, digits, period-or-counter`, one token per line.
    case csv
}

/// What opens an encrypted token file, as an administrator gives it.
public enum TokenFileSecret: Sendable {
    case none
    /// The pre-shared AES key (16, 24 or 32 bytes).
    case preSharedKey([UInt8])
    case password(String)

    /// The pre-shared key as vendors send it: hex, 32, 48 or 64 digits.
    /// - Throws: `invalid_request` naming `field` otherwise (never repeating the value).
    public static func preSharedKey(hex text: String, field: String) throws(TwofoldError) -> TokenFileSecret {
        guard [32, 48, 64].contains(text.utf8.count), let key = Hex.decode(text) else {
            throw TwofoldError(.invalidRequest, "\(field) must be the pre-shared AES key in hex: 32, 48 or 64 hex digits")
        }
        return .preSharedKey(key)
    }
}

/// Hardware OATH tokens: imported into an application's pool from the vendor's file, assigned
/// to users (for whom each is an active TOTP or HOTP factor like any other), handed back, deleted.
public struct HardwareTokenService: Sendable {
    let store: any HardwareTokenStore & FactorStore
    let sealer: Sealer
    let audit: AuditRecorder
    let clock: any WallClock
    let random: any RandomSource

    /// Reads a vendor's file and adds every token in it to the application's pool, sealed; a
    /// file with anything wrong adds none.
    /// - Throws: `invalid_request` naming what is wrong with the file (never a secret);
    ///   `conflict` for a serial already in the pool.
    public func importTokens(_ applicationID: ApplicationID, file: [UInt8], format: TokenFileFormat, key: TokenFileSecret,
                             actor: String) async throws -> [HardwareTokenRecord] {
        let tokens: [HardwareToken]
        do throws(TokenFileError) {
            switch format {
            case .pskc:
                let opener: TokenFileKey = switch key {
                case .none: .none
                case .preSharedKey(let bytes): .preSharedKey(bytes)
                case .password(let password): .password(password)
                }
                tokens = try TokenFile.readPSKC(file, key: opener)
            case .csv:
                guard case .none = key else { throw TokenFileError(.malformed, "a CSV file is not encrypted: give no key or password") }
                tokens = try TokenFile.readCSV(file)
            }
        } catch {
            throw TwofoldError(.invalidRequest, "the \(format.rawValue) file was refused (\(error.code)): \(error.message)")
        }
        guard !tokens.isEmpty else { throw TwofoldError(.invalidRequest, "the \(format.rawValue) file holds no token") }
        let poolKey = try await sealer.systemKey(Self.poolKeyName)
        let now = clock.now()
        let records = try tokens.map { token throws(TwofoldError) -> HardwareTokenRecord in
            let (type, period, counter): (FactorType, Int, UInt64) = switch token.kind {
            case .hotp(let counter): (.hotp, 0, counter)
            case .totp(let period): (.totp, period, 0)
            }
            return HardwareTokenRecord(
                applicationID: applicationID, serial: token.serial, type: type, algorithm: token.algorithm, digits: token.digits,
                period: period, counter: counter,
                sealedSecret: try Envelope.seal(token.secret, key: poolKey, context: Self.context(applicationID, token.serial), random: random),
                manufacturer: token.manufacturer, importedAt: now)
        }
        try await store.insertHardwareTokens(records, audit: audit(
            .hardwareTokensImported, applicationID, nil, actor: actor,
            details: ["format": format.rawValue, "count": String(records.count),
                      "serials": records.prefix(20).map(\.serial).joined(separator: " ") + (records.count > 20 ? " …" : "")]))
        return records
    }

    /// The application's tokens by serial; only those in the pool when `unassignedOnly`.
    public func tokens(_ applicationID: ApplicationID, unassignedOnly: Bool = false) async throws -> [HardwareTokenRecord] {
        try await store.hardwareTokens(applicationID: applicationID, unassignedOnly: unassignedOnly)
    }

    /// Gives a token from the pool to `userID`: it becomes an active factor of theirs, verified
    /// like any TOTP or HOTP factor (counter, drift, resynchronisation).
    /// - Throws: `not_found` for an unknown serial; `conflict` when it is assigned already.
    public func assign(_ applicationID: ApplicationID, serial: String, to userID: UserID, actor: String) async throws -> Factor {
        guard let token = try await tokens(applicationID).first(where: { $0.serial == serial }) else {
            throw TwofoldError.notFound("hardware token \(serial)")
        }
        guard token.factorID == nil else {
            throw TwofoldError(.conflict, "hardware token \(serial) is assigned to another factor; unassign it first")
        }
        let poolKey = try await sealer.systemKey(Self.poolKeyName)
        let secret = try OTPSecret(bytes: try Envelope.open(token.sealedSecret, key: poolKey, context: Self.context(applicationID, serial)))
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: true) else {
            throw TwofoldError(.sealing, "no data key for the user")
        }
        let now = clock.now()
        let factorID = FactorID.random(using: random)
        let factor = FactorRecord(
            id: factorID, applicationID: applicationID, userID: userID, type: token.type, status: .active, createdAt: now,
            activatedAt: now, label: serial, issuer: token.manufacturer, algorithm: token.algorithm, digits: token.digits,
            period: token.period, sealedSecret: try sealer.sealSecret(secret, dataKey: dataKey, applicationID, userID, factorID),
            lastAcceptedStep: token.type == .hotp && token.counter > 0 ? token.counter - 1 : nil)
        guard try await store.assignHardwareToken(applicationID: applicationID, serial: serial, factor: factor, at: now, audit: audit(
            .hardwareTokenAssigned, applicationID, userID, actor: actor, factorID: factorID, details: ["serial": serial])) else {
            throw TwofoldError(.conflict, "hardware token \(serial) was assigned or deleted meanwhile")
        }
        return factor.summary
    }

    /// Hands an assigned token back to the pool, deleting the user's factor.
    /// - Throws: `not_found` for an unknown serial or one in the pool.
    public func unassign(_ applicationID: ApplicationID, serial: String, actor: String) async throws {
        let token = try await tokens(applicationID).first { $0.serial == serial }
        guard let token, token.factorID != nil else { throw TwofoldError.notFound("assigned hardware token \(serial)") }
        guard try await store.unassignHardwareToken(applicationID: applicationID, serial: serial, audit: audit(
            .hardwareTokenUnassigned, applicationID, token.userID, actor: actor, factorID: token.factorID, details: ["serial": serial])) else {
            throw TwofoldError.notFound("assigned hardware token \(serial)")
        }
    }

    /// Deletes a token from the pool, and its factor when it is assigned.
    /// - Throws: `not_found` for an unknown serial.
    public func delete(_ applicationID: ApplicationID, serial: String, actor: String) async throws {
        let token = try await tokens(applicationID).first { $0.serial == serial }
        guard let token, try await store.deleteHardwareToken(applicationID: applicationID, serial: serial, audit: audit(
            .hardwareTokenDeleted, applicationID, token.userID, actor: actor, factorID: token.factorID, details: ["serial": serial])) else {
            throw TwofoldError.notFound("hardware token \(serial)")
        }
    }

    static let poolKeyName = "hardware-tokens"

    static func context(_ applicationID: ApplicationID, _ serial: String) -> [String] {
        ["hardware-token", applicationID.rawValue, serial]
    }
}
