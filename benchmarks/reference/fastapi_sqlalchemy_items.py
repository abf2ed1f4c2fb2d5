"""Hand-written FastAPI + SQLAlchemy: `GET /items/{item_id}` as one would write it by hand.

The same table and the same query as a generated project's (`session.get(ItemRow, id)`, one
SELECT by primary key, a session per request through a dependency), with nothing else: no
middleware, no settings, no migrations. benchmarks/db_read.py loads both in turns.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["REFERENCE_DATABASE_URL"])
sessions = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class ItemRow(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(1000))


class Item(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str | None


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


app = FastAPI()


@app.get("/items/{item_id}", response_model=Item)
async def read_item(
    item_id: int, session: Annotated[AsyncSession, Depends(get_session)]
) -> ItemRow:
    row = await session.get(ItemRow, item_id)
    if row is None:
        raise HTTPException(404)
    return row
