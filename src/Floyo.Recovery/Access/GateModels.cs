using System.Text.Json.Serialization;
using Floyo.Recovery.Postgres;

namespace Floyo.Recovery.Access;

[JsonConverter(typeof(JsonStringEnumConverter<SessionScope>))]
public enum SessionScope
{
    /// <summary>The application roles' sessions on the closed database.</summary>
    RolesOnDatabase,

    /// <summary>Every non-superuser session on the closed database (nobody else may be there while it is restored).</summary>
    NonSuperusersOnDatabase,

    /// <summary>The application roles' sessions on every database of the server (a breach: the credential may be the attacker's).</summary>
    RolesOnServer,
}

/// <summary>How a close is done. The two callers' choices are <see cref="ForRestore"/> and <see cref="ForIsolation"/>.</summary>
/// <param name="Roles">The application's roles: CONNECT is revoked from them, their sessions end, and they are checked closed.</param>
/// <param name="RolesNamed">An operator named the roles: a missing one is a typo and refused. Otherwise missing ones are skipped and recorded.</param>
/// <param name="RolesSetting">The setting that named them, for messages.</param>
/// <param name="EveryGrantee">Revoke CONNECT from every role holding it, not only the application's (a restore must be sure nobody writes).</param>
/// <param name="Public">Revoke PUBLIC's CONNECT, which PostgreSQL grants by default: while PUBLIC holds it, revoking it from a role changes nothing.</param>
/// <param name="MustClose">A role that can still connect afterwards fails the close (what was taken is given back first), and superusers are refused up front; otherwise such roles are reported.</param>
public sealed record GatePolicy(
    IReadOnlyList<string> Roles,
    bool RolesNamed,
    string RolesSetting,
    bool EveryGrantee,
    bool Public,
    SessionScope Sessions,
    bool MustClose)
{
    /// <summary>Stop writes for a restore: everyone but superusers out, or the close fails.</summary>
    public static GatePolicy ForRestore(IReadOnlyList<string> roles, bool named) =>
        new(roles, named, "APP_DB_ROLES", EveryGrantee: true, Public: true, named ? SessionScope.RolesOnDatabase : SessionScope.NonSuperusersOnDatabase, MustClose: true);

    /// <summary>Isolate for a breach: the application roles out everywhere; what cannot be closed is reported, not a reason to stop.</summary>
    public static GatePolicy ForIsolation(IReadOnlyList<string> roles, bool revokePublic) =>
        new(roles, false, "BREACH_ISOLATE_ROLES", EveryGrantee: false, revokePublic, SessionScope.RolesOnServer, MustClose: false);
}

/// <summary>
/// What a close found and took away, stored before anything changed. Reopening gives back exactly
/// <see cref="Revoked"/>: the grantees that held CONNECT and that the close took it from.
/// </summary>
/// <param name="Holders">Who held CONNECT before (PUBLIC included, the owner's implicit grant too).</param>
/// <param name="Roles">The application roles that existed and were shut out.</param>
/// <param name="MissingRoles">Roles named by default that do not exist on the server (skipped).</param>
/// <param name="KeptIn">
/// The admin, when it is not a superuser: CONNECT is granted to it explicitly before anything is revoked and never
/// revoked from it, or it would shut itself out of the database it restores (a superuser needs no grant).
/// </param>
/// <param name="KeptInAdded">The admin did not hold CONNECT itself before: reopening takes the grant the close added away again.</param>
public sealed record GateRecord(
    string Database,
    IReadOnlyList<string> Holders,
    IReadOnlyList<string> Revoked,
    IReadOnlyList<string> Roles,
    IReadOnlyList<string> MissingRoles,
    GatePolicy Policy,
    DateTimeOffset At,
    string? KeptIn = null,
    bool KeptInAdded = false)
{
    /// <summary>The statement that reopens the database, for an operator when the workflow cannot.</summary>
    [JsonIgnore]
    public string ReopenSql
    {
        get
        {
            var grant = Revoked.Count == 0
                ? "-- no role had CONNECT"
                : $"GRANT CONNECT ON DATABASE {PgConnector.Quote(Database)} TO {string.Join(", ", Revoked.Select(ConnectGate.Grantee))}";
            return KeptIn is { } admin && KeptInAdded ? $"{grant}; REVOKE CONNECT ON DATABASE {PgConnector.Quote(Database)} FROM {PgConnector.Quote(admin)}" : grant;
        }
    }
}

/// <param name="StillCanConnect">Application roles that could still connect after the close (only when the policy allows that).</param>
public sealed record GateClosed(GateRecord Record, int SessionsEnded, IReadOnlyList<string> StillCanConnect);
