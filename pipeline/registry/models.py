"""The registry's tables as SQLAlchemy 2 models (the schema itself is Alembic's: ``migrations``).

Organisations (members and partners of the Initiative), their projects (GeoJSON geometry as
text, area, dates, practices from ``catalogs/practices.yaml``, a ``version`` for optimistic
locking), recorded KPI observations, API keys (salted hashes only), the audit log of every
change, and the projects' assessments (ex-ante from the E3 tool; ex-post later).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    membership: Mapped[str] = mapped_column(String(16))  # member | partner
    type: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(3))  # ISO 3166-1 alpha-3
    region: Mapped[str] = mapped_column(String(64))  # the country's region id (pipeline.regions)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(300))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    country: Mapped[str] = mapped_column(String(3))
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON geometry (WGS84)
    area_ha: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    practices: Mapped[str] = mapped_column(Text)  # JSON list of practice ids
    soil_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    funding: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # UPDATE ... WHERE version = :old: a concurrent change makes the second flush fail (no lost update)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class KpiObservation(Base):
    __tablename__ = "kpi_observations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kpi_id: Mapped[str] = mapped_column(String(100), index=True)
    value: Mapped[float] = mapped_column(Float)
    date: Mapped[str] = mapped_column(String(10))  # YYYY, YYYY-MM or YYYY-MM-DD
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    hash: Mapped[str] = mapped_column(String(300))  # scrypt$n$r$p$salt$digest (hex)
    role: Mapped[str] = mapped_column(String(16))  # viewer | editor | admin
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    who: Mapped[str] = mapped_column(String(100))  # "key:<id>", or "cli:<user>"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    action: Mapped[str] = mapped_column(String(16))  # create | update | delete | revoke
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    after: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON


class ProjectAssessment(Base):
    __tablename__ = "project_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    project_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # ex_ante | ex_post
    snapshot_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    method: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # done | failed
    result: Mapped[str] = mapped_column(Text)  # JSON
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
