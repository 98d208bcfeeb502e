/// The OpenAPI 3.1 description of every endpoint, served at `/openapi.json`. Written by hand
/// beside the controllers; a test checks that its operations and the router's routes are the
/// same set, and schemathesis checks the server's answers against it.
enum OpenAPIDocument {
    static let version = "0.1.0"

    /// The document, serialised once.
    static let json: [UInt8] = document.serialized

    static var document: JSONValue {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "Twofold",
                "version": .string(version),
                "description": "Self-hosted two-factor authentication: enroll users in TOTP, HOTP, SMS, voice and push factors, send SMS, voice and push challenges, and verify codes. Every /v1 call needs `Authorization: Bearer <API key>`; a key belongs to one application and has scopes among verify, enroll and admin. User ids are the application's own, percent-encoded in the path. The exceptions are providers' callbacks, signed by the provider, and the push device API under /v1/devices: a device activates with the one-time token of its enrollment's QR code and signs every later request with its own P-256 key (Twofold-Timestamp and Twofold-Signature headers).",
                "license": ["name": "Proprietary"],
            ],
            "paths": paths,
            "components": components,
        ]
    }

    // MARK: Paths

    static var paths: JSONValue {
        [
            "/v1/users/{user_id}/factors": [
                "parameters": [userIDParameter],
                "post": operation(
                    "enrollFactor", "Enroll the user in a new TOTP, HOTP, SMS, voice, push or security key (webauthn) factor (pending until activated with a code, by its device, or with the browser's registration)", scope: "enroll",
                    body: ref("EnrollRequest"),
                    responses: ["201": jsonResponse("The new pending factor: for TOTP and HOTP with its secret, URI and QR code, shown once; for SMS and voice with the challenge that sent the confirmation code; for push with the activation its device scans, shown once; for a security key with the options for navigator.credentials.create()",
                                                    ["oneOf": [ref("Enrollment"), ref("PhoneEnrollment"), ref("PushEnrollment"), ref("SecurityKeyEnrollment")]])
                            .merging([("links", factorLinks)])],
                    errors: ["400", "404", "413", "429"]),
                "get": operation(
                    "listFactors", "The user's active and pending factors, never a secret", scope: "enroll",
                    responses: ["200": jsonResponse("The factors", ref("FactorList"))],
                    errors: ["400", "404"]),
            ],
            "/v1/users/{user_id}/factors/{factor_id}": [
                "parameters": [userIDParameter, factorIDParameter],
                "delete": operation(
                    "deleteFactor", "Delete one factor", scope: "enroll",
                    responses: ["204": ["description": "Deleted"]],
                    errors: ["400", "404"]),
            ],
            "/v1/users/{user_id}/factors/{factor_id}/qr": [
                "parameters": [userIDParameter, factorIDParameter],
                "get": operation(
                    "factorQRCode", "The enrollment QR code of a pending factor (404 once active)", scope: "enroll",
                    parameters: [[
                        "name": "format", "in": "query", "required": false,
                        "description": "Image format; svg by default",
                        "schema": ["type": "string", "enum": ["svg", "png"], "default": "svg"],
                    ]],
                    responses: ["200": [
                        "description": "The QR code of the factor's otpauth URI",
                        "content": [
                            "image/svg+xml": ["schema": ["type": "string"]],
                            "image/png": ["schema": ["type": "string", "contentMediaType": "image/png"]],
                        ],
                    ]],
                    errors: ["400", "404"]),
            ],
            "/v1/users/{user_id}/factors/{factor_id}/activate": [
                "parameters": [userIDParameter, factorIDParameter],
                "post": operation(
                    "activateFactor", "Activate a pending factor with a code from the user's device, or a security key with the browser's registration", scope: "enroll",
                    body: ref("AnswerRequest"),
                    responses: ["200": jsonResponse("The active factor", ref("FactorEnvelope"))],
                    errors: ["400", "404", "409", "413", "422", "429"]),
            ],
            "/v1/users/{user_id}/factors/{factor_id}/resync": [
                "parameters": [userIDParameter, factorIDParameter],
                "post": operation(
                    "resynchronizeFactor", "Move an active HOTP factor's counter to the device's, from two consecutive codes", scope: "enroll",
                    body: ref("ResyncRequest"),
                    responses: ["200": jsonResponse("The resynchronised factor", ref("FactorEnvelope"))],
                    errors: ["400", "404", "413", "422", "429"]),
            ],
            "/v1/users/{user_id}/recovery-codes": [
                "parameters": [userIDParameter],
                "post": operation(
                    "generateRecoveryCodes", "Ten new single-use recovery codes, replacing any earlier set (404 when the user has no active factor)", scope: "enroll",
                    responses: ["201": jsonResponse("The codes, shown once", ref("RecoveryCodes"))],
                    errors: ["400", "404"]),
            ],
            "/v1/users/{user_id}/verify": [
                "parameters": [userIDParameter],
                "post": operation(
                    "verifyCode", "Is this code (or recovery code) good for this user now?", scope: "verify",
                    body: ref("CodeRequest"),
                    responses: ["200": jsonResponse("The verdict; when locked, also a Retry-After header", ref("Verification"),
                                                    headers: ["Retry-After": retryAfterHeader])],
                    errors: ["400", "404", "413"]),
            ],
            "/v1/users/{user_id}/challenges": [
                "parameters": [userIDParameter],
                "post": operation(
                    "createChallenge", "Send the user a code by SMS or voice, call them to press a key, push a prompt to their device, or start a security key ceremony; answers at once, delivery goes on (429 with Retry-After also while push to the device is suspended after a fraud report)", scope: "verify",
                    body: ref("ChallengeRequest"),
                    responses: ["202": jsonResponse("The challenge, pending", ref("ChallengeCreated")).merging([("links", challengeLinks)])],
                    errors: ["400", "404", "413", "429"]),
            ],
            "/v1/challenges/{challenge_id}": [
                "parameters": [challengeIDParameter],
                "get": operation(
                    "getChallenge", "A challenge's status; with wait, answers as soon as it is no longer pending", scope: "verify",
                    parameters: [[
                        "name": "wait", "in": "query", "required": false,
                        "description": "Seconds to wait for the status to change, 0 to 30",
                        "schema": ["type": "integer", "minimum": 0, "maximum": 30, "default": 0],
                    ]],
                    responses: ["200": jsonResponse("The challenge", ref("Challenge"))],
                    errors: ["400", "404"]),
            ],
            "/v1/challenges/{challenge_id}/verify": [
                "parameters": [challengeIDParameter],
                "post": operation(
                    "verifyChallenge", "Is this the code of this challenge (or, for a security key's ceremony, its signed answer)? Answers and counts like verify", scope: "verify",
                    body: ref("AnswerRequest"),
                    responses: ["200": jsonResponse("The verdict; when locked, also a Retry-After header", ref("Verification"),
                                                    headers: ["Retry-After": retryAfterHeader])],
                    errors: ["400", "404", "413"]),
            ],
            "/v1/callbacks/{provider}/{challenge_id}/{kind}": [
                "parameters": [
                    ["name": "provider", "in": "path", "required": true, "description": "twilio or webhook",
                     "schema": ["type": "string", "minLength": 1, "maxLength": 32]],
                    challengeIDParameter,
                    ["name": "kind", "in": "path", "required": true, "description": "status (delivery reports) or digits (key presses)",
                     "schema": ["type": "string", "enum": ["status", "digits"]]],
                ],
                "post": [
                    "operationId": "providerCallback",
                    "summary": "A provider's report on a challenge: delivery status or a key press. No API key: the provider's signature (X-Twilio-Signature, Twofold-Signature) is checked first",
                    "tags": ["providers"],
                    "security": [],
                    "requestBody": ["required": false, "content": [
                        "application/x-www-form-urlencoded": ["schema": ["type": "object"]],
                        "application/json": ["schema": ["type": "object"]],
                    ]],
                    "responses": [
                        "200": ["description": "Applied (or nothing left to apply); Twilio's key presses get TwiML back",
                                "content": ["text/plain": ["schema": ["type": "string"]], "application/xml": ["schema": ["type": "string"]]]],
                        "400": ["$ref": "#/components/responses/BadRequest"],
                        "401": ["$ref": "#/components/responses/Unauthorized"],
                        "404": ["$ref": "#/components/responses/NotFound"],
                        "413": ["$ref": "#/components/responses/PayloadTooLarge"],
                        "500": ["$ref": "#/components/responses/Internal"],
                        "503": ["$ref": "#/components/responses/Unavailable"],
                    ],
                ],
            ],
            "/v1/devices/activate": [
                "post": deviceOperation(
                    "activateDevice", "A push device hands over its public key and how to wake it; its factor becomes active",
                    description: "No API key and no signature: the one-time token of the enrollment's activation is the credential, and works once, until the activation expires.",
                    body: ref("ActivateDevice"),
                    responses: ["201": jsonResponse("Activated: the device signs its requests from now on", ref("DeviceActivated"))],
                    errors: ["400", "401", "413"]),
            ],
            "/v1/devices/{device_id}/challenges": [
                "parameters": [deviceIDParameter],
                "get": deviceOperation(
                    "listDeviceChallenges", "The device's pending push challenges, oldest first", description: signedDescription,
                    parameters: signatureHeaders,
                    responses: ["200": jsonResponse("The pending challenges", ref("DeviceChallengeList"))],
                    errors: ["401"]),
            ],
            "/v1/devices/{device_id}/challenges/{challenge_id}": [
                "parameters": [deviceIDParameter, challengeIDParameter],
                "get": deviceOperation(
                    "getDeviceChallenge", "One of the device's push challenges, in whatever state: what to show the user", description: signedDescription,
                    parameters: signatureHeaders,
                    responses: ["200": jsonResponse("The challenge", ref("DeviceChallenge"))],
                    errors: ["401", "404"]),
                "post": deviceOperation(
                    "answerDeviceChallenge", "Approve or deny a pending push challenge (a denial may report fraud); of concurrent answers exactly one is applied",
                    description: signedDescription + " The signature covers the body's bytes exactly as sent. A challenge no longer pending (answered, canceled, expired) is 400.",
                    parameters: signatureHeaders,
                    body: ref("DeviceAnswer"),
                    responses: ["200": jsonResponse("The answer applied: approved, or denied and why", ref("DeviceAnswerResult"))],
                    errors: ["400", "401", "404", "413"]),
            ],
            "/v1/users/{user_id}/reset": [
                "parameters": [userIDParameter],
                "post": operation(
                    "resetUser", "Delete all of the user's factors and recovery codes", scope: "admin",
                    responses: ["204": ["description": "Reset"]],
                    errors: ["400", "404"]),
            ],
            "/v1/users/{user_id}/unlock": [
                "parameters": [userIDParameter],
                "post": operation(
                    "unlockUser", "Clear the user's failures and lock (404 when nothing is stored for the user)", scope: "admin",
                    responses: ["204": ["description": "Unlocked"]],
                    errors: ["400", "404"]),
            ],
            "/v1/users/{user_id}/export": [
                "parameters": [userIDParameter],
                "get": operation(
                    "exportUser", "Everything held about the user, without secrets (404 when nothing is)", scope: "admin",
                    responses: ["200": jsonResponse("The user's data", ref("UserExport"))],
                    errors: ["400", "404"]),
            ],
            "/v1/users/{user_id}": [
                "parameters": [userIDParameter],
                "delete": operation(
                    "eraseUser", "Erase the user: their data is deleted and their id removed from audit events", scope: "admin",
                    responses: ["204": ["description": "Erased (also when nothing was stored)"]],
                    errors: ["400", "404"]),
            ],
            "/v1/application": [
                "get": operation(
                    "getApplication", "The API key's application and its settings for messages", scope: "admin",
                    responses: ["200": jsonResponse("The application", ref("Application"))],
                    errors: ["404"]),
                "patch": operation(
                    "updateApplication", "Change the application's SMS template and domain (null goes back to the default; a field left out is kept)", scope: "admin",
                    body: ref("ApplicationUpdate"),
                    responses: ["200": jsonResponse("The application", ref("Application"))],
                    errors: ["400", "404", "413"]),
            ],
            "/v1/tokens": [
                "get": operation(
                    "listHardwareTokens", "The application's hardware tokens, by serial; never a seed", scope: "admin",
                    parameters: [["name": "unassigned", "in": "query", "required": false, "description": "true: only those in the pool",
                                  "schema": ["type": "string", "enum": ["true", "false"], "default": "false"]]],
                    responses: ["200": jsonResponse("The tokens", ref("HardwareTokenList"))],
                    errors: ["400"]),
                "post": operation(
                    "importHardwareTokens", "Import a vendor's token file into the application's pool: every token or none", scope: "admin",
                    body: ref("HardwareTokenImport"),
                    responses: ["201": jsonResponse("The tokens imported", ref("HardwareTokenList"))],
                    errors: ["400", "409", "413"]),
            ],
            "/v1/tokens/{serial}": [
                "parameters": [serialParameter],
                "delete": operation(
                    "deleteHardwareToken", "Delete a token from the pool, and its factor when it is assigned", scope: "admin",
                    responses: ["204": ["description": "Deleted"]],
                    errors: ["404"]),
            ],
            "/v1/tokens/{serial}/assign": [
                "parameters": [serialParameter],
                "post": operation(
                    "assignHardwareToken", "Give a token from the pool to a user: it becomes an active TOTP or HOTP factor of theirs", scope: "admin",
                    body: ref("HardwareTokenAssignment"),
                    responses: ["200": jsonResponse("The token and the user's new factor", ref("HardwareTokenAssigned"))],
                    errors: ["400", "404", "409", "413"]),
            ],
            "/v1/tokens/{serial}/unassign": [
                "parameters": [serialParameter],
                "post": operation(
                    "unassignHardwareToken", "Hand an assigned token back to the pool, deleting the user's factor", scope: "admin",
                    responses: ["200": jsonResponse("The token, back in the pool", ref("HardwareTokenEnvelope"))],
                    errors: ["404"]),
            ],
            "/v1/audit": [
                "get": operation(
                    "listAuditEvents", "The application's audit events, newest first, a page at a time", scope: "admin",
                    parameters: [
                        ["name": "user_id", "in": "query", "required": false, "description": "Only this user's events",
                         "schema": ["type": "string", "minLength": 1, "maxLength": 128]],
                        ["name": "since", "in": "query", "required": false, "description": "Only events at or after this time (RFC 3339)",
                         "schema": ["type": "string", "format": "date-time"]],
                        ["name": "limit", "in": "query", "required": false, "description": "Events per page",
                         "schema": ["type": "integer", "minimum": 1, "maximum": 500, "default": 100]],
                        ["name": "before", "in": "query", "required": false,
                         "description": "The `next` value of the previous page; an id this deployment did not give is 400",
                         "schema": ["type": "string", "pattern": "^evt_[a-z2-7]{58}$"]],
                    ],
                    responses: ["200": jsonResponse("A page of events", ref("AuditPage"))],
                    errors: ["400", "404"]),
            ],
            "/healthz": [
                "get": publicOperation("health", "Liveness: the process answers",
                                       responses: ["200": jsonResponse("Alive", ref("Status"))]),
            ],
            "/readyz": [
                "get": publicOperation("readiness", "Readiness: the store answers; each delivery provider's state as details",
                                       responses: [
                                           "200": jsonResponse("Ready", ref("Ready")),
                                           "503": ["$ref": "#/components/responses/Unavailable"],
                                       ]),
            ],
            "/metrics": [
                "get": publicOperation("metrics", "Prometheus metrics: requests by route and status, latency, verifications, lockouts",
                                       responses: ["200": [
                                           "description": "Prometheus text exposition format 0.0.4",
                                           "content": ["text/plain": ["schema": ["type": "string"]]],
                                       ]]),
            ],
            "/openapi.json": [
                "get": publicOperation("openAPI", "This document",
                                       responses: ["200": jsonResponse("The OpenAPI 3.1 document", ["type": "object"])]),
            ],
        ]
    }

    // MARK: Building blocks

    static func ref(_ schema: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(schema)")] }

    static func jsonResponse(_ description: String, _ schema: JSONValue, headers: JSONValue? = nil) -> JSONValue {
        var response: [(String, JSONValue)] = [
            ("description", .string(description)),
            ("content", ["application/json": ["schema": schema]]),
        ]
        if let headers { response.append(("headers", headers)) }
        return .object(response)
    }

    /// From an enrollment to the operations on the factor it made.
    static var factorLinks: JSONValue {
        let parameters: JSONValue = ["user_id": "$request.path.user_id", "factor_id": "$response.body#/factor/id"]
        return [
            "FactorQRCode": ["operationId": "factorQRCode", "parameters": parameters],
            "ActivateFactor": ["operationId": "activateFactor", "parameters": parameters],
            "ResynchronizeFactor": ["operationId": "resynchronizeFactor", "parameters": parameters],
            "DeleteFactor": ["operationId": "deleteFactor", "parameters": parameters],
        ]
    }

    /// From a new challenge to the operations on it.
    static var challengeLinks: JSONValue {
        let parameters: JSONValue = ["challenge_id": "$response.body#/challenge_id"]
        return [
            "GetChallenge": ["operationId": "getChallenge", "parameters": parameters],
            "VerifyChallenge": ["operationId": "verifyChallenge", "parameters": parameters],
        ]
    }

    static let retryAfterHeader: JSONValue = [
        "description": "Seconds until the lock ends",
        "schema": ["type": "integer", "minimum": 1],
    ]

    /// Errors every `/v1` operation can answer, besides those it lists.
    static let commonErrors = ["401", "403", "500", "503"]

    static let errorResponses: [String: String] = [
        "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound", "409": "Conflict", "413": "PayloadTooLarge",
        "422": "InvalidCode", "429": "RateLimited", "500": "Internal", "503": "Unavailable",
    ]

    static func operation(
        _ id: String, _ summary: String, scope: String, parameters: [JSONValue] = [], body: JSONValue? = nil,
        responses: JSONValue, errors: [String]
    ) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("operationId", .string(id)),
            ("summary", .string(summary)),
            ("description", .string("Needs an API key with the `\(scope)` scope.")),
            ("tags", [.string(scope)]),
            ("security", [["bearerAuth": []]]),
        ]
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if let body {
            members.append(("requestBody", ["required": true, "content": ["application/json": ["schema": body]]]))
        }
        guard case .object(var all) = responses else { preconditionFailure("responses must be an object") }
        for status in (errors + commonErrors).sorted() {
            all.append((status, ["$ref": .string("#/components/responses/\(errorResponses[status]!)")]))
        }
        members.append(("responses", .object(all)))
        return .object(members)
    }

    static func publicOperation(_ id: String, _ summary: String, responses: JSONValue) -> JSONValue {
        [
            "operationId": .string(id),
            "summary": .string(summary),
            "tags": ["operations"],
            "security": [],
            "responses": responses,
        ]
    }

    /// An operation of the push device API: no API key (the activation token, or the device's
    /// signature, is the credential).
    static func deviceOperation(
        _ id: String, _ summary: String, description: String, parameters: [JSONValue] = [], body: JSONValue? = nil,
        responses: JSONValue, errors: [String]
    ) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("operationId", .string(id)),
            ("summary", .string(summary)),
            ("description", .string(description)),
            ("tags", ["devices"]),
            ("security", []),
        ]
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if let body {
            members.append(("requestBody", ["required": true, "content": ["application/json": ["schema": body]]]))
        }
        guard case .object(var all) = responses else { preconditionFailure("responses must be an object") }
        for status in (errors + ["500", "503"]).sorted() {
            let name = status == "401" ? "DeviceUnauthorized" : errorResponses[status]!
            all.append((status, ["$ref": .string("#/components/responses/\(name)")]))
        }
        members.append(("responses", .object(all)))
        return .object(members)
    }

    static let signedDescription = "No API key: the request is signed with the device's own P-256 key. `Twofold-Signature` is the Base64 DER ECDSA SHA-256 signature of the UTF-8 text `<METHOD>\\n<path>\\n<Twofold-Timestamp>\\n<hex SHA-256 of the body>` (the path as sent, query included; an empty body for GET). A timestamp more than 300 seconds from the server's clock, a signature used before, another device's key, and an unknown or unactivated device are all 401; another device's challenge is 404, exactly as one that does not exist."

    /// The two headers every signed device request carries.
    static let signatureHeaders: [JSONValue] = [
        ["name": "Twofold-Timestamp", "in": "header", "required": true,
         "description": "The time of signing, in Unix seconds; at most 300 seconds from the server's clock",
         "schema": ["type": "string", "pattern": "^[0-9]{1,12}$"]],
        ["name": "Twofold-Signature", "in": "header", "required": true,
         "description": "Base64 of the DER ECDSA P-256 SHA-256 signature; each is accepted once",
         "schema": ["type": "string", "minLength": 1, "maxLength": 200]],
    ]

    static let deviceIDParameter: JSONValue = [
        "name": "device_id", "in": "path", "required": true,
        "description": "The device's id, as activation returned it (and enrolled factors show it)",
        "schema": ["type": "string", "pattern": "^dev_[a-z2-7]{26}$"],
    ]

    static let userIDParameter: JSONValue = [
        "name": "user_id", "in": "path", "required": true,
        "description": "The application's own id for the user, percent-encoded: 1 to 128 printable characters (code points), no control or format characters, no white space at either end",
        "schema": ["type": "string", "minLength": 1, "maxLength": 128],
    ]

    static let serialParameter: JSONValue = [
        "name": "serial", "in": "path", "required": true, "description": "The token's serial, percent-encoded",
        "schema": ["type": "string", "minLength": 1, "maxLength": 64],
    ]

    static let challengeIDParameter: JSONValue = [
        "name": "challenge_id", "in": "path", "required": true,
        "description": "A challenge id, as creating it returned",
        "schema": ["type": "string", "pattern": "^chl_[a-z2-7]{26}$"],
    ]

    static let factorIDParameter: JSONValue = [
        "name": "factor_id", "in": "path", "required": true,
        "description": "A factor id, as enrollment returned it",
        "schema": ["type": "string", "pattern": "^fac_[a-z2-7]{26}$"],
    ]

    // MARK: Components

    static var components: JSONValue {
        [
            "securitySchemes": [
                "bearerAuth": ["type": "http", "scheme": "bearer", "description": "An API key, as `twofold apikey create` prints it"],
            ],
            "responses": [
                "BadRequest": errorResponse("Malformed JSON, an unknown field, a wrong type, an unknown value, an invalid user id, or an operation the object's state does not allow (a challenge no longer pending, a push factor activated with a code)"),
                "Unauthorized": errorResponse("A missing, unknown or revoked API key"),
                "DeviceUnauthorized": errorResponse("An activation token unknown, used or expired; or a device request whose signature is missing, malformed, stale, replayed or not the device's, or for a device unknown or not activated"),
                "Forbidden": errorResponse("The API key lacks the scope"),
                "NotFound": errorResponse("No such factor, user data or route"),
                "Conflict": errorResponse("It exists already (a serial in the token pool, a security key registered in the application) or is taken (a token assigned to another user)"),
                "PayloadTooLarge": errorResponse("The body is over 16 KiB"),
                "InvalidCode": errorResponse("The code is wrong"),
                "RateLimited": .object(errorResponse("The user is locked after repeated failures, a send limit was reached, or push to the device is suspended after a fraud report").objectMembers
                    + [("headers", ["Retry-After": retryAfterHeader])]),
                "Internal": errorResponse("An internal error; it has been logged"),
                "Unavailable": errorResponse("The store is unavailable"),
            ],
            "schemas": schemas,
        ]
    }

    static func errorResponse(_ description: String) -> JSONValue {
        jsonResponse(description, ref("Error"))
    }

    /// RFC 3339 in UTC with milliseconds, as the CLI's `--json` writes times too.
    static let timestampPattern: JSONValue = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"
    static let timestamp: JSONValue = ["type": "string", "format": "date-time", "pattern": timestampPattern]
    static let nullableTimestamp: JSONValue = ["type": ["string", "null"], "format": "date-time", "pattern": timestampPattern]
    static let nullableString: JSONValue = ["type": ["string", "null"]]

    static var schemas: JSONValue {
        [
            "Error": [
                "type": "object",
                "required": ["error"],
                "properties": [
                    "error": [
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": [
                            "code": ["type": "string", "enum": [
                                "invalid_request", "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict",
                                "payload_too_large", "invalid_code", "rate_limited", "unavailable", "internal",
                            ]],
                            "message": ["type": "string"],
                        ],
                    ],
                ],
            ],
            "Factor": [
                "type": "object",
                "required": ["id", "type", "status", "created_at", "activated_at", "expires_at", "label", "issuer", "algorithm", "digits", "period", "phone",
                             "device_id", "last_used_at", "security_key"],
                "properties": [
                    "id": ["type": "string", "pattern": "^fac_[a-z2-7]{26}$"],
                    "type": ["type": "string", "enum": ["totp", "hotp", "sms", "voice", "push", "webauthn"]],
                    "status": ["type": "string", "enum": ["pending", "active"]],
                    "created_at": timestamp,
                    "activated_at": nullableTimestamp,
                    "expires_at": .object(nullableTimestamp.objectMembers + [("description", "When a pending enrollment lapses; null once active")]),
                    "label": ["type": "string", "description": "The account name authenticator apps show; push: the device's name"],
                    "issuer": nullableString,
                    "algorithm": ["type": "string", "enum": ["sha1", "sha256", "sha512"]],
                    "digits": ["type": "integer", "enum": [0, 6, 7, 8], "description": "The length of its codes; 0 for push and security keys, which have none"],
                    "period": ["type": ["integer", "null"], "description": "TOTP period in seconds; null for the others"],
                    "phone": ["type": ["string", "null"], "description": "SMS and voice: the number, masked (+1•••••4567); null for the others"],
                    "device_id": ["type": ["string", "null"], "pattern": "^dev_[a-z2-7]{26}$",
                                  "description": "Push: the device that answers its challenges; null for the others"],
                    "last_used_at": .object(nullableTimestamp.objectMembers
                        + [("description", "Push: when its device last answered a challenge; security keys: when the key last signed in; null before that and for the others")]),
                    "security_key": [
                        "type": ["object", "null"],
                        "description": "Security keys, once registered: what identifies the key (never its public key); null for the others",
                        "required": ["aaguid", "transports", "attestation_format", "flagged_at"],
                        "properties": [
                            "aaguid": ["type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                                       "description": "The authenticator model; all zeros when the key does not say"],
                            "transports": ["type": "array", "items": ["type": "string"]],
                            "attestation_format": ["type": "string", "enum": ["none", "packed", "fido-u2f"]],
                            "flagged_at": .object(nullableTimestamp.objectMembers
                                + [("description", "When a sign-in came with a counter that did not move forward (a possible clone); the key is refused from then on")]),
                        ],
                    ],
                ],
            ],
            "EnrollRequest": [
                "type": "object",
                "required": ["type"],
                "additionalProperties": false,
                "description": "Optional fields may be left out or null for their default; any other field is refused. SMS and voice take `phone` and none of the others; push takes `label` and none of the others; webauthn takes `label` and `user_verification`.",
                "properties": [
                    "type": ["type": "string", "enum": ["totp", "hotp", "sms", "voice", "push", "webauthn"]],
                    "phone": ["type": ["string", "null"], "pattern": "^\\+[1-9][0-9]{6,14}$",
                              "description": "SMS and voice: the number in E.164 form; a confirmation code is sent to it"],
                    "issuer": ["type": ["string", "null"], "minLength": 1, "maxLength": 64, "pattern": "^[^:]*$",
                               "description": "Shown in authenticator apps; the configured issuer by default"],
                    "label": ["type": ["string", "null"], "minLength": 1, "maxLength": 128,
                              "description": "TOTP and HOTP: the account name authenticator apps show, without \":\"; the user id by default. Push: the device's name, \"Push device\" by default"],
                    "algorithm": ["type": ["string", "null"], "pattern": "^-*[sS]-*[hH]-*[aA]-*(1|2-*5-*6|5-*1-*2)-*$", "default": "sha1",
                                  "description": "sha1, sha256 or sha512, in any case, with or without a hyphen (SHA-256), as the CLI accepts them; answers write it in lower case"],
                    "digits": ["type": ["integer", "null"], "minimum": 6, "maximum": 8, "default": 6],
                    "period": ["type": ["integer", "null"], "minimum": 1, "maximum": 86400, "default": 30, "description": "TOTP only"],
                    "user_verification": ["type": ["string", "null"], "enum": ["required", "preferred", "discouraged", nil],
                                          "description": "Security keys: whether the key must verify the user (PIN, biometrics) at every use; preferred by default"],
                ],
            ],
            "SecurityKeyEnrollment": [
                "type": "object",
                "required": ["factor", "public_key"],
                "properties": [
                    "factor": ref("Factor"),
                    "public_key": ["type": "object", "required": ["rp", "user", "challenge", "pubKeyCredParams"],
                                   "description": "PublicKeyCredentialCreationOptions as JSON, for PublicKeyCredential.parseCreationOptionsFromJSON(); binary members base64url"],
                ],
            ],
            "Enrollment": [
                "type": "object",
                "required": ["factor", "secret", "otpauth_uri", "qr_svg"],
                "properties": [
                    "factor": ref("Factor"),
                    "secret": ["type": "string", "pattern": "^[A-Z2-7]+$", "description": "Base32, without padding"],
                    "otpauth_uri": ["type": "string", "pattern": "^otpauth://(totp|hotp)/"],
                    "qr_svg": ["type": "string", "description": "The otpauth URI as an SVG QR code"],
                ],
            ],
            "PhoneEnrollment": [
                "type": "object",
                "required": ["factor", "challenge"],
                "properties": ["factor": ref("Factor"), "challenge": ref("Challenge")],
            ],
            "PushEnrollment": [
                "type": "object",
                "required": ["factor", "activation"],
                "properties": [
                    "factor": ref("Factor"),
                    "activation": [
                        "type": "object",
                        "description": "What the device scans; shown once (only the token's hash is kept)",
                        "required": ["token", "uri", "qr_svg", "expires_at", "application_server_key"],
                        "properties": [
                            "token": ["type": "string", "pattern": "^[A-Za-z0-9_-]{43}$",
                                      "description": "The one-time activation token: 32 random bytes, base64url without padding"],
                            "uri": ["type": "string", "pattern": "^twofold://activate\\?",
                                    "description": "twofold://activate?url=<the server's public URL>&token=<token>, and &vapid=<application_server_key> when Web Push is enabled"],
                            "qr_svg": ["type": "string", "description": "The URI as an SVG QR code"],
                            "expires_at": .object(timestamp.objectMembers + [("description", "When the token lapses and the pending factor with it")]),
                            "application_server_key": ["type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]{87}$",
                                                       "description": "The VAPID public key (the 65-byte P-256 point, base64url) a Web Push subscription is made with (applicationServerKey); null when Web Push is not enabled"],
                        ],
                    ],
                ],
            ],
            "ChallengeRequest": [
                "type": "object",
                "required": ["type"],
                "additionalProperties": false,
                "properties": [
                    "type": ["type": "string", "enum": ["sms", "voice", "push", "webauthn"]],
                    "factor_id": ["type": ["string", "null"], "pattern": "^fac_[a-z2-7]{26}$",
                                  "description": "The factor; by default the user's first active one of the type (push: the device used last)"],
                    "mode": ["type": ["string", "null"], "enum": ["code", "approve", nil],
                             "description": "code by default. Voice: approve calls and asks to press 1 (approve) or 9 (deny and report fraud). Push is always approve"],
                    "context": [
                        "type": ["object", "null"],
                        "additionalProperties": false,
                        "description": "What the login page knows, read out on calls and audited; each at most 256 bytes",
                        "properties": [
                            "ip": ["type": ["string", "null"], "maxLength": 256],
                            "user_agent": ["type": ["string", "null"], "maxLength": 256],
                            "location": ["type": ["string", "null"], "maxLength": 256],
                            "app_name": ["type": ["string", "null"], "maxLength": 256],
                        ],
                    ],
                ],
            ],
            "ChallengeCreated": [
                "type": "object",
                "required": ["challenge_id", "type", "status", "expires_at"],
                "properties": [
                    "challenge_id": ["type": "string", "pattern": "^chl_[a-z2-7]{26}$"],
                    "type": ["type": "string", "enum": ["sms", "voice", "push", "webauthn"]],
                    "status": ["type": "string", "enum": ["pending"]],
                    "expires_at": timestamp,
                    "number": ["type": ["integer", "null"], "minimum": 10, "maximum": 99,
                               "description": "Push only: the number the sign-in page shows, which the device must send back to approve; null when the application turned number matching off"],
                    "public_key": ["type": "object", "required": ["challenge", "rpId"],
                                   "description": "Security keys only: PublicKeyCredentialRequestOptions as JSON, for PublicKeyCredential.parseRequestOptionsFromJSON()"],
                ],
            ],
            "Challenge": [
                "type": "object",
                "required": ["challenge_id", "type", "mode", "purpose", "status", "reason", "factor_id", "user_id", "created_at",
                             "expires_at", "finished_at", "failed_attempts", "delivery", "context"],
                "properties": [
                    "challenge_id": ["type": "string", "pattern": "^chl_[a-z2-7]{26}$"],
                    "type": ["type": "string", "enum": ["sms", "voice", "push", "webauthn"]],
                    "mode": ["type": "string", "enum": ["code", "approve"]],
                    "purpose": ["type": "string", "enum": ["login", "enrollment"]],
                    "status": ["type": "string", "enum": ["pending", "approved", "denied", "expired", "failed", "canceled"]],
                    "reason": .object(nullableString.objectMembers + [("description", "too_many_attempts, fraud, no_answer, invalid_number, unreachable, superseded (a newer push replaced it), wrong_number, declined, …")]),
                    "factor_id": ["type": "string", "pattern": "^fac_[a-z2-7]{26}$"],
                    "user_id": ["type": "string"],
                    "created_at": timestamp,
                    "expires_at": timestamp,
                    "finished_at": nullableTimestamp,
                    "failed_attempts": ["type": "integer", "minimum": 0],
                    "delivery": [
                        "type": ["object", "null"],
                        "required": ["provider", "status"],
                        "properties": ["provider": ["type": "string"], "status": ["type": "string"]],
                    ],
                    "context": ["type": "object", "additionalProperties": ["type": "string"]],
                ],
            ],
            "FactorEnvelope": [
                "type": "object",
                "required": ["factor"],
                "properties": ["factor": ref("Factor")],
            ],
            "FactorList": [
                "type": "object",
                "required": ["factors"],
                "properties": ["factors": ["type": "array", "items": ref("Factor")]],
            ],
            "CodeRequest": [
                "type": "object",
                "required": ["code"],
                "additionalProperties": false,
                "properties": ["code": ["type": "string", "minLength": 1, "maxLength": 64]],
            ],
            "AnswerRequest": [
                "type": "object",
                "additionalProperties": false,
                "description": "Exactly one of `code` and `credential`",
                "properties": [
                    "code": ["type": "string", "minLength": 1, "maxLength": 64],
                    "credential": ["type": "object",
                                   "description": "Security keys: the browser's PublicKeyCredential as JSON (credential.toJSON()), relayed as it is"],
                ],
                "oneOf": [["required": ["code"]], ["required": ["credential"]]],
            ],
            "ResyncRequest": [
                "type": "object",
                "required": ["codes"],
                "additionalProperties": false,
                "properties": [
                    "codes": ["type": "array", "minItems": 2, "maxItems": 2,
                              "items": ["type": "string", "minLength": 1, "maxLength": 64],
                              "description": "Two consecutive codes from the device"],
                ],
            ],
            "Verification": [
                "type": "object",
                "required": ["result"],
                "properties": [
                    "result": ["type": "string", "enum": ["allow", "deny"]],
                    "factor_id": ["type": ["string", "null"], "description": "allow: the factor that matched; null for a recovery code"],
                    "factor_type": ["type": "string", "enum": ["totp", "hotp", "sms", "voice", "recovery_code"]],
                    "remaining_recovery_codes": ["type": "integer", "minimum": 0],
                    "reason": ["type": "string", "enum": ["invalid_code", "replayed", "locked", "no_factors"]],
                    "retry_after": ["type": "integer", "minimum": 1, "description": "locked: seconds until the lock ends"],
                ],
            ],
            "RecoveryCodes": [
                "type": "object",
                "required": ["codes"],
                "properties": ["codes": ["type": "array", "minItems": 10, "maxItems": 10, "items": ["type": "string"]]],
            ],
            "UserExport": [
                "type": "object",
                "required": ["application", "user_id", "exported_at", "factors", "hardware_tokens", "recovery_codes", "throttle", "challenges",
                             "audit_events"],
                "properties": [
                    "application": ["type": "string"],
                    "hardware_tokens": ["type": "array", "items": ["type": "string"],
                                        "description": "The serials of the hardware tokens assigned to the user; never their seeds"],
                    "user_id": ["type": "string"],
                    "exported_at": timestamp,
                    "factors": ["type": "array", "items": ref("Factor"),
                                "description": "SMS and voice factors show the full number here: this is the user's own data"],
                    "challenges": ["type": "array", "items": ref("Challenge")],
                    "recovery_codes": [
                        "type": "object",
                        "required": ["total", "unused", "created_at"],
                        "properties": [
                            "total": ["type": "integer", "minimum": 0],
                            "unused": ["type": "integer", "minimum": 0],
                            "created_at": nullableTimestamp,
                        ],
                    ],
                    "throttle": [
                        "type": "object",
                        "required": ["consecutive_failures", "locked_until"],
                        "properties": [
                            "consecutive_failures": ["type": "integer", "minimum": 0],
                            "locked_until": nullableTimestamp,
                        ],
                    ],
                    "audit_events": [
                        "type": "array",
                        "items": [
                            "type": "object",
                            "required": ["time", "action", "outcome", "reason", "actor", "factor_id"],
                            "properties": [
                                "time": timestamp,
                                "action": ["type": "string"],
                                "outcome": ["type": "string"],
                                "reason": nullableString,
                                "actor": ["type": "string"],
                                "factor_id": nullableString,
                            ],
                        ],
                    ],
                ],
            ],
            "AuditEvent": [
                "type": "object",
                "description": "As `twofold audit tail --json` prints it",
                "required": ["id", "time", "application_id", "user_id", "user_ref", "actor", "action", "outcome", "reason", "factor_id", "details"],
                "properties": [
                    "id": ["type": "string", "pattern": "^evt_[a-z2-7]{58}$",
                           "description": "Opaque and stable: it reveals nothing of other applications' events"],
                    "time": timestamp,
                    "application_id": ["type": ["string", "null"], "pattern": "^app_[a-z2-7]{26}$",
                                       "description": "The application the event belongs to; null for events of the whole store"],
                    "action": ["type": "string", "description": "factor.enrolled, verification, user.erased, …"],
                    "outcome": ["type": "string", "description": "success, allow or deny"],
                    "reason": nullableString,
                    "actor": ["type": "string", "description": "api:<key id>, cli:<user> or system"],
                    "user_id": .object(nullableString.objectMembers + [("description", "null for application events and after erasure")]),
                    "user_ref": .object(nullableString.objectMembers + [("description", "A keyed pseudonym of the user, which outlives erasure; null for application events")]),
                    "factor_id": nullableString,
                    "details": ["type": ["object", "string"], "additionalProperties": ["type": "string"],
                                "description": "An object of the fields particular to the action, such as the key_id and scopes of api_key.created; the stored text, as it is, only for an event edited outside Twofold so that it is no such object (`twofold audit verify` reports it)"],
                ],
            ],
            "AuditPage": [
                "type": "object",
                "required": ["events", "next"],
                "properties": [
                    "events": ["type": "array", "items": ref("AuditEvent")],
                    "next": ["type": ["string", "null"], "description": "Pass as `before` for the next page; null on the last page"],
                ],
            ],
            "Application": [
                "type": "object",
                "required": ["id", "name", "created_at", "sms_template", "domain", "push_number_matching", "rp_id", "origins"],
                "properties": [
                    "id": ["type": "string", "pattern": "^app_[a-z2-7]{26}$"],
                    "name": ["type": "string"],
                    "created_at": timestamp,
                    "sms_template": .object(nullableString.objectMembers + [("description", "null: the deployment's TWOFOLD_SMS_TEMPLATE")]),
                    "domain": .object(nullableString.objectMembers + [("description", "SMS end with the origin-bound line @domain #code")]),
                    "push_number_matching": ["type": "boolean",
                                             "description": "Whether push challenges show a number the device must send back to approve"],
                    "rp_id": .object(nullableString.objectMembers + [("description", "The WebAuthn relying party id security keys register to; null: security keys are off")]),
                    "origins": ["type": "array", "items": ["type": "string"], "description": "The origins WebAuthn ceremonies may come from"],
                ],
            ],
            "HardwareToken": [
                "type": "object",
                "required": ["serial", "type", "algorithm", "digits", "period", "counter", "manufacturer", "imported_at", "user_id",
                             "factor_id", "assigned_at"],
                "properties": [
                    "serial": ["type": "string"],
                    "type": ["type": "string", "enum": ["totp", "hotp"]],
                    "algorithm": ["type": "string", "enum": ["sha1", "sha256", "sha512"]],
                    "digits": ["type": "integer", "minimum": 6, "maximum": 8],
                    "period": ["type": ["integer", "null"], "description": "TOTP: the time step in seconds; null for HOTP"],
                    "counter": ["type": ["integer", "null"], "minimum": 0, "description": "HOTP, in the pool: the counter its next code uses; null for TOTP"],
                    "manufacturer": nullableString,
                    "imported_at": timestamp,
                    "user_id": .object(nullableString.objectMembers + [("description", "The user it is assigned to; null in the pool")]),
                    "factor_id": ["type": ["string", "null"], "pattern": "^fac_[a-z2-7]{26}$"],
                    "assigned_at": nullableTimestamp,
                ],
            ],
            "HardwareTokenList": [
                "type": "object",
                "required": ["tokens"],
                "properties": ["tokens": ["type": "array", "items": ref("HardwareToken")]],
            ],
            "HardwareTokenEnvelope": [
                "type": "object",
                "required": ["token"],
                "properties": ["token": ref("HardwareToken")],
            ],
            "HardwareTokenAssigned": [
                "type": "object",
                "required": ["token", "factor"],
                "properties": ["token": ref("HardwareToken"), "factor": ref("Factor")],
            ],
            "HardwareTokenImport": [
                "type": "object",
                "required": ["format", "file"],
                "additionalProperties": false,
                "properties": [
                    "format": ["type": "string", "enum": ["pskc", "csv"]],
                    "file": ["type": "string", "description": "The file's text: PSKC XML (RFC 6030), or CSV lines `serial, secret, type, digits, period-or-counter`. A request body is at most 16 KiB: import larger files with `twofold tokens import`, or in parts"],
                    "psk": ["type": ["string", "null"], "pattern": "^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$",
                            "description": "PSKC encrypted with a pre-shared key: the key in hex"],
                    "password": ["type": ["string", "null"], "description": "PSKC encrypted with a password (PBKDF2)"],
                ],
            ],
            "HardwareTokenAssignment": [
                "type": "object",
                "required": ["user_id"],
                "additionalProperties": false,
                "properties": ["user_id": ["type": "string", "minLength": 1, "maxLength": 128]],
            ],
            "ApplicationUpdate": [
                "type": "object",
                "additionalProperties": false,
                "properties": [
                    "sms_template": ["type": ["string", "null"], "minLength": 6, "maxLength": 320, "pattern": "\\{code\\}",
                                     "description": "Must contain {code}; {app} and {minutes} are replaced too"],
                    "domain": ["type": ["string", "null"], "maxLength": 253,
                               "pattern": "^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"],
                    "push_number_matching": ["type": ["boolean", "null"], "description": "null: back to the default, on"],
                    "rp_id": ["type": ["string", "null"], "maxLength": 253,
                              "description": "The WebAuthn relying party id (a host name); null turns security keys off. Setting it needs `origins`"],
                    "origins": ["type": ["array", "null"], "maxItems": 16,
                                "items": ["type": "string", "pattern": "^https?://[a-z0-9.-]+(:[0-9]+)?$"],
                                "description": "https origins on rp_id or under it (http only for localhost); replaces the list"],
                ],
            ],
            "ActivateDevice": [
                "type": "object",
                "required": ["token", "public_key"],
                "additionalProperties": false,
                "description": "Optional fields may be left out or null; any other field is refused. Without `transport`, a `push_token` means the webhook relay and nothing means polling.",
                "properties": [
                    "token": ["type": "string", "description": "The activation's token, from the enrollment or its URI"],
                    "public_key": ["type": "string", "contentEncoding": "base64",
                                   "description": "The device's P-256 public key: SubjectPublicKeyInfo DER in standard Base64. Any other key or curve is 400"],
                    "push_token": ["type": ["string", "null"], "minLength": 1, "maxLength": 4096,
                                   "description": "Webhook transport: the token the operator's relay wakes the device with; 1 to 4096 bytes, no control characters"],
                    "transport": [
                        "type": ["object", "null"],
                        "required": ["type"],
                        "description": "How the device is woken. webpush: a PushSubscription as toJSON() gives it, with type added; webhook: with push_token; polling: the device lists its challenges itself. A transport this server has not enabled is 400. Members other than these, here and in `keys`, are ignored",
                        "properties": [
                            "type": ["type": "string", "enum": ["webpush", "webhook", "polling"]],
                            "endpoint": ["type": ["string", "null"], "description": "webpush: the push service's https URL"],
                            "expirationTime": ["type": ["number", "null"], "description": "webpush: as the subscription gives it; not used"],
                            "keys": [
                                "type": ["object", "null"],
                                "required": ["p256dh", "auth"],
                                "properties": [
                                    "p256dh": ["type": "string", "description": "The 65-byte uncompressed P-256 point, base64url"],
                                    "auth": ["type": "string", "description": "The 16-byte authentication secret, base64url"],
                                ],
                            ],
                        ],
                    ],
                ],
            ],
            "DeviceActivated": [
                "type": "object",
                "required": ["device_id"],
                "properties": ["device_id": ["type": "string", "pattern": "^dev_[a-z2-7]{26}$"]],
            ],
            "DeviceChallenge": [
                "type": "object",
                "description": "A push challenge as its device sees it: who asks and from where, never the number",
                "required": ["challenge_id", "status", "reason", "app_name", "context", "created_at", "expires_at", "number_required"],
                "properties": [
                    "challenge_id": ["type": "string", "pattern": "^chl_[a-z2-7]{26}$"],
                    "status": ["type": "string", "enum": ["pending", "approved", "denied", "expired", "failed", "canceled"]],
                    "reason": .object(nullableString.objectMembers + [("description", "declined, fraud, wrong_number, superseded, …")]),
                    "app_name": ["type": "string", "description": "The context's app_name, else the application's name"],
                    "context": ["type": "object", "additionalProperties": ["type": "string"]],
                    "created_at": timestamp,
                    "expires_at": timestamp,
                    "number_required": ["type": "boolean", "description": "Whether approving needs the number the sign-in page shows"],
                ],
            ],
            "DeviceChallengeList": [
                "type": "object",
                "required": ["challenges"],
                "properties": ["challenges": ["type": "array", "items": ref("DeviceChallenge")]],
            ],
            "DeviceAnswer": [
                "type": "object",
                "required": ["decision"],
                "additionalProperties": false,
                "description": "Optional fields may be left out or null; any other field is refused",
                "properties": [
                    "decision": ["type": "string", "enum": ["approve", "deny"]],
                    "number": ["type": ["integer", "null"], "minimum": 10, "maximum": 99,
                               "description": "approve: the number the sign-in page shows, required when number_required; another number denies the challenge (wrong_number)"],
                    "fraud": ["type": ["boolean", "null"], "default": false,
                              "description": "deny only: the user did not start this sign-in. Push to the device is then suspended for a while"],
                ],
            ],
            "DeviceAnswerResult": [
                "type": "object",
                "required": ["status", "reason"],
                "properties": [
                    "status": ["type": "string", "enum": ["approved", "denied"]],
                    "reason": ["type": ["string", "null"], "enum": ["declined", "fraud", "wrong_number", nil],
                               "description": "denied: why; null when approved"],
                ],
            ],
            "Ready": [
                "type": "object",
                "required": ["status", "providers"],
                "properties": [
                    "status": ["type": "string", "enum": ["ready"]],
                    "providers": ["type": "array", "items": [
                        "type": "object",
                        "required": ["channel", "provider", "status", "degraded_until"],
                        "properties": [
                            "channel": ["type": "string", "enum": ["sms", "voice"]],
                            "provider": ["type": "string"],
                            "status": ["type": "string", "enum": ["ok", "degraded"]],
                            "degraded_until": nullableTimestamp,
                        ],
                    ]],
                ],
            ],
            "Status": [
                "type": "object",
                "required": ["status"],
                "properties": ["status": ["type": "string", "enum": ["ok", "ready"]]],
            ],
        ]
    }
}

extension JSONValue {
    /// An object's members; empty for anything else.
    var objectMembers: [(String, JSONValue)] {
        guard case .object(let members) = self else { return [] }
        return members
    }
}
