using Floyo.Recovery.Postgres;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Rotation;

/// <summary>
/// Retiring a login the attacker may hold: a session of that role kept open on another database (which
/// isolation does not touch) must not be able to keep the role usable by changing its own password
/// between the rotation's steps. Run as a managed-PostgreSQL-like admin: NOSUPERUSER, CREATEROLE, pg_signal_backend.
/// </summary>
public sealed class RetirementTests
{
    [Fact]
    public async Task A_session_of_the_retired_role_that_sets_its_own_password_between_the_steps_cannot_log_in_again()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var admin = scenario.Blue.Replace("_blue", "_adm", StringComparison.Ordinal);
        var adminPassword = RandomSecret.Create();
        await using (var superuser = await PgConnector.OpenAsync(TestServers.Primary, default))
        {
            await PgConnector.ExecuteAsync(superuser,
                $"CREATE ROLE {admin} LOGIN NOSUPERUSER CREATEROLE CREATEDB PASSWORD {PgConnector.Literal(adminPassword)}; GRANT pg_signal_backend TO {admin}", default);
        }
        try
        {
            await using (var setup = scenario.Engine(graceSeconds: 0))
            {
                await scenario.InitAsync(setup);
                await setup.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(TaggedSecrets: false), null, default);
            }
            var managed = new NpgsqlConnectionStringBuilder(scenario.Database.Connection.ConnectionString) { Username = admin, Password = adminPassword };
            await using var engine = scenario.Engine(graceSeconds: 0, overrides: new Dictionary<string, string?> { ["DATABASE_URL"] = TestServers.Url(managed, scenario.Database.Name) });
            var store = scenario.Store(engine);
            DatabaseCredential.TryParse((await store.GetCurrentAsync(RotationScenario.Secret, default))!.Value, out var stolen);
            Assert.Equal(scenario.Blue, stolen!.Username);

            // The attacker's session, on a database isolation of the application's database leaves alone.
            var elsewhere = new NpgsqlConnectionStringBuilder(scenario.AppConnection(stolen).ConnectionString) { Database = "postgres" };
            await using var attacker = new NpgsqlConnection(elsewhere.ConnectionString);
            await attacker.OpenAsync();

            // The rotation's steps one by one, the attacker acting between retiring the role and ending its sessions.
            var rotator = engine.GetRequiredService<DatabaseCredentialRotator>();
            var published = await rotator.PublishAsync(await rotator.PlanAsync("rot-retire", TimeSpan.Zero, default), default);
            var (disabled, _) = await rotator.DisablePreviousAsync(published, default);
            var (retired, role) = await rotator.RetireOldRoleAsync(disabled, default);
            Assert.Equal(scenario.Blue, role);
            var kept = new DatabaseCredential(scenario.Blue, "attacker-chosen-" + Guid.NewGuid().ToString("N"));
            await using (var change = new NpgsqlCommand($"ALTER ROLE CURRENT_USER PASSWORD {PgConnector.Literal(kept.Password)}", attacker))
            {
                await change.ExecuteNonQueryAsync();
            }
            var (ended, sessions) = await rotator.EndOldSessionsAsync(retired, default);
            Assert.True(sessions >= 1, "the attacker's session was ended");
            await rotator.CompleteAsync(ended, default);

            // The password the attacker set is useless: the retired role may not log in at all, anywhere.
            Assert.Equal("28000", await TryLoginAsync(elsewhere, kept));
            Assert.Equal("28000", await scenario.TryLoginAsync(kept));
            var (current, credential) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
            Assert.Equal(scenario.Green, credential.Username);
            Assert.Null(await scenario.TryLoginAsync(credential));

            // The next rotation brings the retired role back into service, with a password only the store knows.
            var back = await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(TaggedSecrets: false), null, default);
            Assert.Equal(scenario.Blue, back.Rotated.Single().Role);
            var (_, returned) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
            Assert.Equal(scenario.Blue, returned.Username);
            Assert.Null(await scenario.TryLoginAsync(returned));
            Assert.Equal("28P01", await scenario.TryLoginAsync(kept));
            Assert.Equal("28P01", await scenario.TryLoginAsync(credential));
            Assert.NotEqual(current.Version, (await store.GetCurrentAsync(RotationScenario.Secret, default))!.Properties.Version);
        }
        finally
        {
            await using var superuser = await PgConnector.OpenAsync(TestServers.Primary, default);
            await LoginRolesForTests.DropAsync(superuser, admin);
        }
    }

    private static async Task<string?> TryLoginAsync(NpgsqlConnectionStringBuilder server, DatabaseCredential credential)
    {
        var target = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Username = credential.Username, Password = credential.Password, Pooling = false };
        try
        {
            await using var connection = new NpgsqlConnection(target.ConnectionString);
            await connection.OpenAsync();
            return null;
        }
        catch (PostgresException e)
        {
            return e.SqlState;
        }
    }
}
